# escape: ZoneInfo keys that are paths (absolute, or climbing with ..) to load a file as a zone
# layer: views
# expect: contained
# CPython's own key validation raises ValueError before any lookup; the stand-in never opens a file.
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def tool(conv):
    for key in ("/etc/localtime", "../../../../etc/localtime", "Europe/../../tzdata/zones", "/tmp"):
        try:
            ZoneInfo(key)
        except ValueError as exc:
            if "ZoneInfo keys" not in str(exc):
                return "refused %r for another reason: %s" % (key, exc)
            continue
        return "escaped: %r gave a zone" % key
    try:
        ZoneInfo("Mars/Olympus_Mons")
    except ZoneInfoNotFoundError as exc:
        if "Mars/Olympus_Mons" not in str(exc):
            return "the error does not name the key: %s" % exc
    else:
        return "escaped: an unknown key gave a zone"
    return "contained"
