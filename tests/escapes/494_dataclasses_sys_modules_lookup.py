# escape: dataclasses looks a class's module up in sys.modules for string annotations: point __module__ at a runtime module with make_dataclass(namespace=...)
# layer: views
# expect: contained
# dataclasses only asks that module whether a name is ClassVar/InitVar; nothing of it is
# returned to the tool, and the class it builds stays the tool's.
from __future__ import annotations

import dataclasses


def tool(conv):
    Booking = dataclasses.make_dataclass("Booking", [("ref", "ClassVar"), ("party", "int")],
                                         namespace={"__module__": "sandbox.child.entry"})
    names = [field.name for field in dataclasses.fields(Booking)]
    try:
        getattr(Booking.__init__, "__globals__")
    except AttributeError as exc:
        if "__globals__" not in str(exc):
            return "__globals__ refused for another reason: %s" % exc
    else:
        return "escaped: read the generated __init__'s globals"
    return "contained" if names == ["ref", "party"] else "unexpected fields %r" % names
