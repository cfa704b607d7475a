# escape: super(ZoneInfo, ZoneInfo).no_cache(key) reaches zoneinfo's own no_cache past the refusing override: it loads the zone from files
# layer: guard
# expect: runtime_error super(ZoneInfo, ...) is not available to tools
# moved: was 'no_cache is not available to tools' from the stand-in's override; the attribute guard now
# refuses super() bound to a class the tool did not define before any member is looked up, so no
# super() proxy reaches past a stand-in to the standard classmethods it overrides
# LIVE today at the view: the stand-in overrides no_cache, but super() skips to the standard
# classmethod, which searches TZPATH and opens the tzdata file (in the pool the mount
# namespace makes that fail: ZoneInfoNotFoundError).
from zoneinfo import ZoneInfo


def tool(conv):
    zone = super(ZoneInfo, ZoneInfo).no_cache("Europe/London")
    return "escaped: loaded %r from a file, bypassing the bundled database" % (zone,)
