# escape: write into a dataclass base's __dataclass_fields__, the fields every subclass inherits without passing dataclasses' _get_field again: a Field subclass with a lying name planted there reaches the code dataclasses generates for the subclass
# layer: views
# expect: contained
# The checks of 401/423 sit where dataclasses makes a field; a field planted in a base's table
# skips them. Tools read a read-only copy of the table, as of a class's __annotations__.
import dataclasses


class SlyField(dataclasses.Field):
    pass


def tool(conv):
    @dataclasses.dataclass
    class Base:
        a: int = 0

    planted = SlyField(2, dataclasses.MISSING, True, True, None, True, None, False)
    for name, attempt in (("item write", lambda: Base.__dataclass_fields__.__setitem__("x", planted)),
                          ("update", lambda: Base.__dataclass_fields__.update(x=planted))):
        try:
            attempt()
        except (TypeError, AttributeError) as exc:
            if "read-only" not in str(exc) and "tool" not in str(exc) and "mappingproxy" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: %s planted a field in a base's __dataclass_fields__" % name
    try:
        Base.__dataclass_fields__["x"] = planted
    except TypeError as exc:
        return "contained" if "read-only" in str(exc) else "refused for another reason: %s" % exc
    return "escaped: planted a field in a base's __dataclass_fields__"
