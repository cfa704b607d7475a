# escape: AttributeError.obj of a failed module lookup is the real module behind the view (CVE-2024-47532 shape)
# layer: compile
# expect: compile_error attribute 'obj' is not allowed
import json


def tool(conv):
    try:
        json.no_such_member
    except AttributeError as e:
        return str(e.obj.codecs.builtins)
    return "no exception"
