# escape: vars(module) is the real module namespace: vars(json)['codecs'].builtins
# layer: compile
# expect: compile_error 'vars' is not allowed
import json


def tool(conv):
    return str(vars(json)["codecs"].builtins.open)
