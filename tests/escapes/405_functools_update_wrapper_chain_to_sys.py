# escape: update_wrapper copies type.__dict__ (from typing.get_origin) into a tool object: type.__subclasses__ -> BuiltinImporter -> sys -> os
# layer: views
# expect: contained
# LIVE today: vars() of the tool's own object is a plain dict, so the copied descriptors are
# read as items, past every attribute rule (see 403 and 404).
import functools
import typing


class Spy:
    pass


def contents(obj):
    spy = Spy()
    functools.update_wrapper(spy, obj)
    return vars(spy)


def tool(conv):
    try:
        real_type = typing.get_origin(typing.Type[int])
        classes = contents(real_type)["__subclasses__"](object)
        importer = [c for c in classes if c.__name__ == "BuiltinImporter"][0]
        sys_module = importer.load_module("sys")
        os_module = contents(sys_module)["modules"]["os"]
        return "escaped: reached %r, pid %r" % (os_module, contents(os_module)["getpid"]())
    except Exception as exc:
        if "tool" in str(exc):
            return "contained"
        return "failed for another reason: %s: %s" % (type(exc).__name__, exc)
