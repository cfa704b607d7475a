# escape: the Python 2 names func_globals, im_func, im_self, func_code: no underscore, so the name rules do not catch them
# layer: guard
# expect: contained
import json
import random


def tool(conv):
    tries = (
        lambda: json.loads.func_globals,
        lambda: json.loads.func_code,
        lambda: random.random.im_func,
        lambda: random.random.im_self,
        lambda: conv.set_variant.im_self,
        lambda: conv.set_variant.im_func,
    )
    for attempt in tries:
        try:
            attempt()
        except AttributeError:
            continue
        return "escaped"
    return "contained"
