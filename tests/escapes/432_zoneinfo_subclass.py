# escape: subclass ZoneInfo to get a class with its own cache, loaded from disk by zoneinfo's C code
# layer: views
# expect: runtime_error zoneinfo.ZoneInfo cannot be subclassed in tools
from zoneinfo import ZoneInfo


def tool(conv):
    class Loader(ZoneInfo):
        pass

    return "escaped: %r" % Loader("Europe/London")
