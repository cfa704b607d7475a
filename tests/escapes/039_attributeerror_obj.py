# escape: AttributeError.obj of a failed module lookup is the real module behind the view (CVE-2024-47532 shape)
# layer: guard
# expect: runtime_error AttributeError.obj is not available to tools
# moved: was refused at compile time (every '.obj' was); 'obj' is an ordinary name for a tool's own objects, so the guard refuses it on AttributeError instances, and the errors it raises carry no object anyway
import json


def tool(conv):
    try:
        json.no_such_member
    except AttributeError as e:
        return str(e.obj.codecs.builtins)
    return "no exception"
