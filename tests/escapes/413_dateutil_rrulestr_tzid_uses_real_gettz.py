# escape: rrulestr("DTSTART;TZID=...") resolves the TZID with dateutil's own gettz, which reads TZPATH and absolute paths, not the bundled database
# layer: views
# expect: contained
# LIVE today at the view: the view serves tz.gettz from the bundled tzdata, but rrule.py calls
# dateutil.tz.gettz directly. A path TZID is stat()ed and opened (contained by the mount
# namespace), and in the pool an ordinary TZID such as Europe/London resolves to nothing.
from dateutil import tz
from dateutil.rrule import rrulestr


def tool(conv):
    rule = rrulestr("DTSTART;TZID=Europe/London:20240101T090000\nRRULE:FREQ=DAILY;COUNT=2")
    zone = rule[0].tzinfo
    bundled = tz.gettz("Europe/London")
    if zone is bundled:
        return "contained"
    return "escaped: rrulestr resolved the TZID without the bundled database: %r" % (zone,)
