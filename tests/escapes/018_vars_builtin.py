# escape: vars(module) is the real module namespace: vars(json)['codecs'].builtins
# layer: guard
# expect: runtime_error vars() argument must be one of the tool's own objects
# moved: was refused at compile time ('vars' was not a builtin); vars(obj) is now the guarded one: only the tool's own instances have a readable __dict__
import json


def tool(conv):
    return str(vars(json)["codecs"].builtins.open)
