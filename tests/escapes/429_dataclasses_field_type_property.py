# escape: a Field subclass whose _field_type is a property: say "not a field" when dataclasses picks the __init__ fields, "a field" when it picks the __repr__ fields, so a check of the __init__ fields never sees its lying name
# layer: views
# expect: contained
# Checking names at one code-generation step is not enough when the field object decides which
# steps see it: every field must be exactly dataclasses.Field, checked where dataclasses makes it.
# The setter captures dataclasses' own _FIELD marker, which tools cannot name.
import dataclasses


class Name(str):
    calls = 0

    def __format__(self, spec):
        Name.calls += 1
        if Name.calls == 2:  # the expression half of the f-string __repr__ is built from
            return "x!r}{(_ for _ in ()).throw(LookupError('escaped: code ran in a generated __repr__'))"
        return "x"


class Fickle(dataclasses.Field):
    reads = 0
    marker = None

    @property
    def _field_type(self):
        Fickle.reads += 1
        return None if Fickle.reads == 5 else Fickle.marker  # the 5th read picks the __init__ fields

    @_field_type.setter
    def _field_type(self, value):
        Fickle.marker = value

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
            x: int = Fickle(1, dataclasses.MISSING, True, True, None, True, None, False)
        return "escaped? %r" % (Booking(),)
    except LookupError as exc:
        return str(exc)
    except (TypeError, AttributeError) as exc:
        return "contained" if "tool" in str(exc) else "refused for another reason: %s" % exc
