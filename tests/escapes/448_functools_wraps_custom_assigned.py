# escape: functools.wraps(f, assigned=("__code__",)) to copy a runtime function's code object onto a tool function
# layer: views
# expect: runtime_error only the default assigned= and updated=
import functools

import phonenumbers


def tool(conv):
    @functools.wraps(phonenumbers.parse, assigned=("__code__", "__globals__"))
    def clone(*args):
        return None

    return "escaped: %r" % clone
