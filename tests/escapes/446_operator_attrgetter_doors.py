# escape: operator.attrgetter("__class__") on a class (its metaclass) and dotted paths into function internals
# layer: guard
# expect: contained
import operator

import phonenumbers


class Booking:
    pass


def tool(conv):
    attempts = (
        ("__class__", Booking, "metaclass"),
        ("__init__.__globals__", phonenumbers.AsYouTypeFormatter("GB"), "__init__"),
        ("parse.__globals__", phonenumbers, "__globals__"),
        ("parse.__code__", phonenumbers, "__code__"),
        ("state._data", conv, "'_' are"),
        ("__dict__", int, "__dict__"),
    )
    for path, target, word in attempts:
        try:
            operator.attrgetter(path)(target)
        except AttributeError as exc:
            if word not in str(exc) or "tool" not in str(exc):
                return "attrgetter(%r) refused for another reason: %s" % (path, exc)
            continue
        return "escaped: attrgetter(%r) succeeded" % path
    return "contained"
