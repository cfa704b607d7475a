# escape: zoneinfo.reset_tzpath(to=[...]) and TZPATH, the search path on disk, through the view
# layer: views
# expect: contained
import zoneinfo


def tool(conv):
    for name in ("reset_tzpath", "TZPATH", "_tzpath", "_common", "_load_tzdata"):
        try:
            getattr(zoneinfo, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc) and "not available" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: zoneinfo.%s is reachable" % name
    return "contained"
