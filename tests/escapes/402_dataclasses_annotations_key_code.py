# escape: put a str-subclass key into a tool class's __annotations__ (a plain dict) and apply @dataclass: its __format__ rewrites the exec()d __init__, reaching sys
# layer: views
# expect: contained
# LIVE today: the same injection as 401 through the decorator, so fixing make_dataclass
# alone does not close it; every field name must be an exact identifier str before
# dataclasses generates code.
import dataclasses


class Name(str):
    calls = 0

    def __format__(self, spec):
        Name.calls += 1
        if Name.calls == 1:
            return ("x=(_ for _ in ()).throw(LookupError('escaped: reached sys.modules, %d modules' % "
                    "len([c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close']"
                    "[0].__init__.__globals__['sys'].modules))), *, _z")
        return "x"


class Booking:
    pass


def tool(conv):
    try:
        Booking.__annotations__[Name("x")] = int
        dataclasses.dataclass(Booking)
    except LookupError as exc:
        return str(exc)
    except Exception as exc:
        if "tool" in str(exc) or "identifier" in str(exc):
            return "contained"
        return "failed for another reason: %s: %s" % (type(exc).__name__, exc)
    return "contained" if Name.calls == 0 else "the field name was formatted into generated code"
