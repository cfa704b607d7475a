# escape: hang data on a shared function object (json.loads.planted = ...): function attributes are writable in plain Python and outlive the call in a shared process
# layer: guard
# expect: runtime_error cannot assign to or delete from 'function' objects
import json


def tool(conv):
    json.loads.planted = {"caller": "+15551230000"}
    return "planted"
