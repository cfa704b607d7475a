# escape: a tool subclass of dataclasses.Field whose `name` property returns a str subclass: @dataclass formats it into the __init__ source it exec()s
# layer: views
# expect: contained
# LIVE today: a third route to the injection of 401/402, through an ordinary class statement
# with exact-str annotations; the field name comes from the Field object dataclass was given
# as the default. Every name reaching dataclasses' code generation must be checked there.
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


class SlyField(dataclasses.Field):
    @property
    def name(self):
        return Name("x")

    @name.setter
    def name(self, value):
        pass


def tool(conv):
    try:
        @dataclasses.dataclass
        class Booking:
            x: int = SlyField(dataclasses.MISSING, dataclasses.MISSING, True, True, None, True, None, False)
    except LookupError as exc:
        return str(exc)
    except Exception as exc:
        if Name.calls == 0 or "tool" in str(exc) or "identifier" in str(exc):
            return "contained"
        return "failed for another reason: %s: %s" % (type(exc).__name__, exc)
    return "contained" if Name.calls == 0 else "the field name was formatted into generated code"
