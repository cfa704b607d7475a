# escape: register() on the standard library's ABCs (collections.abc.Mapping, numbers.Number, abc.ABC, typing.Hashable) to rewrite isinstance() process-wide
# layer: guard
# expect: contained
import abc
import collections.abc
import numbers


def tool(conv):
    for name, target in (("Mapping", collections.abc.Mapping), ("Number", numbers.Number),
                         ("ABC", abc.ABC), ("Iterable", collections.abc.Iterable)):
        try:
            target.register(bytes)
        except AttributeError as exc:
            if "register() is available only on the tool's own ABCs" not in str(exc):
                return "%s.register refused for another reason: %s" % (name, exc)
            continue
        return "escaped: registered bytes with %s" % name
    try:
        getattr(abc.ABCMeta, "register")(collections.abc.Mapping, bytes)
    except (AttributeError, TypeError) as exc:
        if "tools" not in str(exc) and "has no attribute 'register'" not in str(exc):
            return "ABCMeta.register refused for another reason: %s" % exc
    else:
        return "escaped: registered through ABCMeta.register"
    return "contained"
