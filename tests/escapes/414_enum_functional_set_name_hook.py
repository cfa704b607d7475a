# escape: the Enum functional API takes dunder names in its mapping, so Enum("Intent", {..., "__set_name__": hook}) defines a member hook the class guard refuses
# layer: views
# expect: contained
# LIVE today: Enum("Name", names) builds the class with EnumType directly, never through the
# class guard, so REFUSED_CLASS_MEMBERS is not checked; the hook then runs while another
# class is built.
import enum

CALLS = []


def hook(self, owner, name):
    CALLS.append(name)


def tool(conv):
    try:
        Intent = enum.Enum("Intent", {"BOOK": 1, "__set_name__": hook})
    except Exception as exc:
        return "contained" if "not allowed" in str(exc) or "tool" in str(exc) else "failed for another reason: %s" % exc

    class Holder:
        slot = Intent.BOOK

    if CALLS:
        return "escaped: a member's __set_name__ ran for %r" % CALLS
    return "contained"
