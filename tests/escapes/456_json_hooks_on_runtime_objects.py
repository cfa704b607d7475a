# escape: json's hooks handed runtime objects: default=vars on conv, cls= a callable, object_hook - to read the runtime's internals
# layer: guard
# expect: runtime_error vars() argument must be one of the tool's own objects
import json


def tool(conv):
    return json.dumps({"conv": conv}, default=vars)
