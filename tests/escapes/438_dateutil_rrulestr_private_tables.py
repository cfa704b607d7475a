# escape: the shared rrulestr parser's private tables (_freq_map, _weekday_map) and handlers
# layer: guard
# expect: contained
from dateutil.rrule import rrulestr


def tool(conv):
    for name in ("_freq_map", "_weekday_map", "_handle_FREQ", "_parse_rfc"):
        try:
            getattr(rrulestr, name)
        except AttributeError as exc:
            if "names starting with '_'" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: read rrulestr.%s" % name
    return "contained"
