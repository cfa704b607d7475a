# escape: replace json.dumps in the json module view (shared by every tool of the namespace) with setattr
# layer: guard
# expect: runtime_error cannot assign to or delete from 'ModuleView' objects
import json


def tool(conv):
    setattr(json, "dumps", print)
    return "escaped"
