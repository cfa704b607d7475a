# escape: random's shared generator: getstate/setstate through the view, the module's _inst, a bound method's __self__
# layer: views
# expect: contained
import random


def tool(conv):
    for name in ("getstate", "setstate", "_inst", "_urandom", "_os"):
        try:
            getattr(random, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "random.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: random.%s is reachable" % name
    try:
        getattr(random.random, "__self__")
    except AttributeError as exc:
        if "__self__" not in str(exc):
            return "__self__ refused for another reason: %s" % exc
    else:
        return "escaped: read random.random.__self__ (the shared generator)"
    return "contained"
