# escape: functools.update_wrapper(runtime_function, tool_function) to write the tool's __dict__ and labels onto a runtime function
# layer: views
# expect: runtime_error may only change the tool's own functions and objects
import functools

import phonenumbers


def hook(*args):
    return "hooked"


def tool(conv):
    hook.marker = "planted"
    functools.update_wrapper(phonenumbers.parse, hook)
    return "escaped: rewrote phonenumbers.parse"
