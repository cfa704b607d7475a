# escape: rewrite a Fraction's private numerator through object.__setattr__, and read the class's private operator factory
# layer: guard
# expect: contained
import fractions


def tool(conv):
    half = fractions.Fraction(1, 2)
    try:
        object.__setattr__(half, "_numerator", 3)
    except TypeError as exc:
        if "tool's own objects" not in str(exc):
            return "write refused for another reason: %s" % exc
    else:
        return "escaped: half is now %s" % half
    try:
        getattr(fractions.Fraction, "_operator_fallbacks")
    except AttributeError as exc:
        if "names starting with '_'" not in str(exc):
            return "read refused for another reason: %s" % exc
    else:
        return "escaped: read Fraction._operator_fallbacks"
    return "contained"
