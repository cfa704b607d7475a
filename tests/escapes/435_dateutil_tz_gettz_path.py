# escape: dateutil.tz.gettz given a file path, and the path-reading classes tzfile/tzical/tzwin through the view
# layer: views
# expect: contained
# The view's gettz serves only the bundled database: a path is not a zone (None), with no file
# opened; tzfile, tzical and tzwin are left out. (type(gettz(...)) still reaches tzfile: 412.)
from dateutil import tz


def tool(conv):
    for path in ("/etc/localtime", "/tmp", "../../etc/localtime", ":/etc/localtime"):
        if tz.gettz(path) is not None:
            return "escaped: gettz(%r) gave %r" % (path, tz.gettz(path))
    for name in ("tzfile", "tzical", "tzwin", "tzwinlocal", "TZPATHS"):
        try:
            getattr(tz, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: dateutil.tz.%s is reachable" % name
    if tz.gettz("Europe/London") is None:
        return "the bundled database is missing Europe/London"
    return "contained"
