# escape: decimal.DefaultContext is the module-level template of every new Context(): set its precision to 3 for the rest of the process
# layer: guard
# expect: contained
# LIVE today: decimal.Context objects are attribute-writable for tools (the call's own
# getcontext()), and DefaultContext, BasicContext and ExtendedContext are Context objects
# too, but shared.
import decimal


def tool(conv):
    try:
        decimal.DefaultContext.prec = 3
    except Exception as exc:
        return "contained" if "read-only" in str(exc) or "tool" in str(exc) else "failed for another reason: %s" % exc
    fresh = decimal.Context().prec
    if fresh != 28:
        return "escaped: every new decimal.Context() now has prec=%d" % fresh
    return "contained"
