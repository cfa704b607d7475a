# escape: operator.methodcaller("__reduce_ex__", 4) on a runtime object and methodcaller("format") walking a field
# layer: guard
# expect: contained
import operator

import phonenumbers


def tool(conv):
    try:
        operator.methodcaller("__reduce_ex__", 4)(conv)
    except AttributeError as exc:
        if "pickling internals" not in str(exc):
            return "__reduce_ex__ refused for another reason: %s" % exc
    else:
        return "escaped: called conv.__reduce_ex__"
    try:
        operator.methodcaller("format", phonenumbers.parse)("{0.__globals__}")
    except AttributeError as exc:
        if "__globals__" not in str(exc):
            return "format refused for another reason: %s" % exc
    else:
        return "escaped: str.format walked __globals__"
    return "contained"
