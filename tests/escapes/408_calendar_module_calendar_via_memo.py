# escape: deepcopy(calendar.monthcalendar, memo) puts the bound method's __self__, calendar's module-level TextCalendar, in the memo: setfirstweekday() for the whole process
# layer: views
# expect: contained
# LIVE today: the view leaves setfirstweekday out because it mutates module state; the memo
# hands out the object it mutates.
import calendar
import copy


def tool(conv):
    memo = {}
    try:
        copy.deepcopy(calendar.monthcalendar, memo)
    except Exception as exc:
        return "contained" if "tool" in str(exc) or "memo" in str(exc) else "failed for another reason: %s" % exc
    for value in memo.values():
        if type(value) is list:
            for item in value:
                if type(item).__name__ == "TextCalendar":
                    item.setfirstweekday(calendar.SUNDAY)
    if calendar.firstweekday() != calendar.MONDAY:
        return "escaped: calendar.firstweekday() is now %r for every later call" % calendar.firstweekday()
    return "contained"
