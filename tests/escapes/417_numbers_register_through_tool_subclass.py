# escape: register() on the tool's own subclass of numbers.Integral makes isinstance("7", numbers.Integral) true process-wide (fractions, statistics, decimal read it)
# layer: guard
# expect: contained
# LIVE today: as 416, through the numeric tower.
import numbers


class Whole(numbers.Integral):
    pass


def tool(conv):
    try:
        Whole.register(str)
    except Exception as exc:
        return "contained" if "tool" in str(exc) else "failed for another reason: %s" % exc
    if isinstance("7", numbers.Integral):
        return "escaped: every str is now a numbers.Integral for the whole process"
    return "contained"
