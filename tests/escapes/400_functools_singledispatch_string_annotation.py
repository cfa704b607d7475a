# escape: functools.singledispatch register() evaluates a string annotation with eval() (typing.get_type_hints), outside the compiler: plain attribute walks reach sys
# layer: views
# expect: contained
# LIVE today: register() runs get_type_hints on the function, which eval()s the annotation
# text in the tool's globals with CPython's own compiler, so no attribute guard applies.
from functools import singledispatch

STASH = []


@singledispatch
def describe(value):
    return "thing"


def tool(conv):
    def on_text(value: "STASH.append([c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0].__init__.__globals__['sys']) or str"):
        return "text"

    try:
        describe.register(on_text)
    except Exception as exc:  # the fix: refused, or evaluated through the guards
        if STASH:
            return "escaped: reached %r before failing" % (STASH[0],)
        if "tool" in str(exc):
            return "contained"
        return "failed for another reason: %s: %s" % (type(exc).__name__, exc)
    if STASH:
        return "escaped: reached %r through an annotation" % (STASH[0],)
    return "contained"
