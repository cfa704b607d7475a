# escape: make_dataclass with a str-subclass field name whose __format__ rewrites the source dataclasses exec()s: code outside the compiler reaches sys
# layer: views
# expect: contained
# LIVE today: the wrapper checks name.isidentifier() on the str subclass ("x" passes), then
# dataclasses builds __init__ with f-strings, which call the tool's __format__, and exec()s it.
import dataclasses


class Name(str):
    calls = 0

    def __format__(self, spec):
        Name.calls += 1
        if Name.calls == 1:  # the first use is a parameter of the function dataclasses exec()s
            return ("x=(_ for _ in ()).throw(LookupError('escaped: reached sys.modules, %d modules' % "
                    "len([c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close']"
                    "[0].__init__.__globals__['sys'].modules))), *, _z")
        return "x"


def tool(conv):
    try:
        dataclasses.make_dataclass("Booking", [(Name("x"), int)])
    except LookupError as exc:
        return str(exc)
    except Exception as exc:
        if "tool" in str(exc) or "identifier" in str(exc):
            return "contained"
        return "failed for another reason: %s: %s" % (type(exc).__name__, exc)
    return "contained" if Name.calls == 0 else "the field name was formatted into generated code"
