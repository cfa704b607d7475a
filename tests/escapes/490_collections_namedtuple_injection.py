# escape: collections.namedtuple/typing.NamedTuple field names that are code, directly and as a str subclass whose __str__ lies
# layer: views
# expect: contained
# namedtuple eval()s a lambda built from the field names; it checks them as exact str identifiers.
import collections
import typing


class Sly:
    def __str__(self):
        return "x=__import__('os')"


class SlyStr(str):
    def __str__(self):
        return "x, y=__import__('os')"


def tool(conv):
    attempts = (
        ("code name", lambda: collections.namedtuple("P", ["x", "y=__import__('os')"])),
        ("object name", lambda: collections.namedtuple("P", [Sly()])),
        ("str subclass", lambda: collections.namedtuple("P", [SlyStr("x")])),
        ("typing", lambda: typing.NamedTuple("P", [(SlyStr("x"), int)])),
        ("module", lambda: collections.namedtuple("P", ["x"], module="os")),
    )
    for name, attempt in attempts:
        try:
            made = attempt()
        except (TypeError, ValueError) as exc:
            if "identifier" not in str(exc) and "string" not in str(exc) and "tools" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        if any(type(field) is not str or not field.isidentifier() for field in made._fields):
            return "escaped: %s gave fields %r" % (name, made._fields)
    return "contained"
