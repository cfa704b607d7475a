# escape: a tool object's __deepcopy__(memo) copied after a runtime object reads the memo's keep-alive list: the real __dict__ of calendar.month_name, rewritten
# layer: views
# expect: contained
# LIVE today: refusing a caller's memo= is not enough; copy passes the same memo to every
# __deepcopy__ hook, and it holds the originals reduced before (see 406).
import calendar
import copy

SEEN = []


class Spy:
    def __deepcopy__(self, memo):
        SEEN.append(memo)
        return Spy()


def tool(conv):
    try:
        copy.deepcopy([calendar.month_name, Spy()])
    except Exception as exc:
        return "contained" if "tool" in str(exc) else "failed for another reason: %s" % exc
    if not SEEN:
        return "contained"
    for value in SEEN[0].values():
        if type(value) is list:
            for item in value:
                if type(item) is dict and "format" in item:
                    item["format"] = "%A"
    name = calendar.month_name[1]
    if name != "January":
        return "escaped: calendar.month_name[1] is now %r for every later call" % name
    return "contained"
