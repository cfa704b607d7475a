# escape: an exported function's __globals__ is its module's namespace (json.loads.__globals__['codecs'])
# layer: compile
# expect: compile_error attribute '__globals__' is not available to tools
import json


def tool(conv):
    return str(json.loads.__globals__["codecs"].builtins)
