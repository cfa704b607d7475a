# escape: type(dateutil.tz.gettz("Europe/London")) is dateutil's tzfile, the class the view leaves out because it opens a path: open one
# layer: views
# expect: contained
# LIVE today at the view: the tool's type(x) returns x's class, here tzfile, whose
# constructor open()s a str path. In the pool the mount namespace holds only /tmp, so the
# open of /tmp fails with IsADirectoryError (the file system was reached).
from dateutil import tz


def tool(conv):
    zone_class = type(tz.gettz("Europe/London"))
    try:
        zone_class("/tmp")
    except OSError as exc:
        return "escaped: tzfile opened a path: %s: %s" % (type(exc).__name__, exc)
    except Exception as exc:
        if "tool" in str(exc):
            return "contained"
        return "failed for another reason: %s: %s" % (type(exc).__name__, exc)
    return "escaped: tzfile read a path"
