# escape: functools.singledispatch's register() reads the implementation's annotations with typing.get_type_hints, which eval()s a string annotation as unrestricted code (get_type_hints itself is left out of typing for this reason)
# layer: guard
# expect: contained
# LIVE today: the string annotation runs object.__subclasses__() and os.getpid(). Fix: a singledispatch/singledispatchmethod stand-in whose register() refuses string annotations (or takes the class explicitly only)
import functools

found = []


@functools.singledispatch
def show(value):
    return "plain"


def tool(conv):
    try:
        @show.register
        def _(value: "(found.append([c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0].__init__.__globals__['getpid']()), int)[1]"):
            return "int"
    except (TypeError, NameError, AttributeError, SyntaxError) as error:
        if found:
            return f"escaped: the annotation ran before the refusal: pid {found[0]}"
        return "contained"
    if found:
        return f"escaped: the string annotation ran as code: os.getpid() = {found[0]}"
    return "contained"
