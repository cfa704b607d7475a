# escape: swap a function's __code__ for one compiled outside RestrictedPython (or read co_consts)
# layer: compile
# expect: compile_error attribute '__code__' is not available to tools
import json


def tool(conv):
    return str(json.loads.__code__.co_names)
