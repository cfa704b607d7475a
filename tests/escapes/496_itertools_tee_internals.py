# escape: itertools objects' internals: a tee's shared data object and a product/groupby's state through __reduce__/__setstate__
# layer: guard
# expect: contained
import itertools


def tool(conv):
    first, second = itertools.tee(iter([1, 2, 3]))
    for target, name in ((first, "__reduce__"), (first, "__setstate__"), (itertools.product([1], [2]), "__reduce__"),
                         (itertools.groupby("aab"), "__setstate__"), (first, "__copy__")):
        try:
            getattr(target, name)
        except AttributeError as exc:
            if "not available to tools" not in str(exc) and "tool's own" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        if name != "__copy__":
            return "escaped: read %s of an itertools object" % name
    return "contained" if list(second) == [1, 2, 3] else "tee broke"
