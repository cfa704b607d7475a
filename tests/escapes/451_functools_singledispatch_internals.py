# escape: a singledispatch function's registry (rewrite dispatch for later callers) and its private cache hooks
# layer: guard
# expect: contained
import functools


@functools.singledispatch
def show(value):
    return "value"


def tool(conv):
    try:
        show.registry[object] = lambda value: "hijacked"
    except TypeError as exc:
        if "read-only" not in str(exc) and "does not support item assignment" not in str(exc):
            return "registry write refused for another reason: %s" % exc
    else:
        return "escaped: rewrote the registry"
    try:
        getattr(show, "_clear_cache")
    except AttributeError as exc:
        if "names starting with '_'" not in str(exc):
            return "_clear_cache refused for another reason: %s" % exc
    else:
        return "escaped: read _clear_cache"
    show.register(int, lambda value: "int")
    return "contained" if show(1) == "int" and show("x") == "value" else "dispatch broke"
