# escape: calendar's module state: setfirstweekday, the printing calendars, the module-level TextCalendar (see 408 for the memo route)
# layer: views
# expect: contained
import calendar


def tool(conv):
    for name in ("setfirstweekday", "TextCalendar", "HTMLCalendar", "LocaleTextCalendar", "prmonth", "prcal", "c", "sys"):
        try:
            getattr(calendar, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "calendar.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: calendar.%s is reachable" % name
    try:
        getattr(calendar.monthcalendar, "__self__")
    except AttributeError as exc:
        if "__self__" not in str(exc):
            return "__self__ refused for another reason: %s" % exc
    else:
        return "escaped: read calendar.monthcalendar.__self__"
    return "contained" if calendar.firstweekday() == calendar.MONDAY else "firstweekday changed"
