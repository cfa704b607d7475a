# escape: register() on the tool's own subclass of collections.abc.Mapping makes isinstance("...", Mapping) true for every caller in the process
# layer: guard
# expect: contained
# LIVE today: register is refused on the standard ABCs, but ABCMeta.__subclasscheck__ of
# Mapping consults the registries of its subclasses, including the tool's.
import collections.abc


class AnyMapping(collections.abc.Mapping):
    pass


def tool(conv):
    try:
        AnyMapping.register(str)
    except Exception as exc:
        return "contained" if "tool" in str(exc) else "failed for another reason: %s" % exc
    if isinstance("plain text", collections.abc.Mapping):
        return "escaped: every str is now a collections.abc.Mapping for the whole process"
    return "contained"
