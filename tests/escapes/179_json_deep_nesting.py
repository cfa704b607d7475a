# escape: json.loads of a million nested arrays, to overflow the C stack of the decoder
# layer: interpreter
# expect: runtime_error maximum recursion depth exceeded
import json


def tool(conv):
    return str(json.loads("[" * 1000000 + "]" * 1000000))
