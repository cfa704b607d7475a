# escape: dateutil.parser.parse with a tzinfos callable that answers a file path, hoping the parser loads that file as the zone
# layer: views
# expect: contained
# A str from tzinfos is a POSIX TZ string for dateutil (tzstr): "/etc/localtime" becomes a
# zone of that name at offset 0, and no file is read (its transitions would not be 0 all year).
from datetime import timedelta

from dateutil import parser, tz

SEEN = []


def zones(name, offset):
    SEEN.append(name)
    return "/etc/localtime"


def tool(conv):
    try:
        when = parser.parse("2024-07-01 09:00 XYZ", tzinfos=zones)
    except ValueError as exc:
        return "contained" if "tool" in str(exc) or "string" in str(exc) else "failed for another reason: %s" % exc
    if SEEN != ["XYZ"]:
        return "tzinfos was not consulted: %r" % SEEN
    if not isinstance(when.tzinfo, tz.tzstr) or when.utcoffset() != timedelta(0):
        return "escaped: parsed with a zone read from somewhere: %r" % (when.tzinfo,)
    return "contained"
