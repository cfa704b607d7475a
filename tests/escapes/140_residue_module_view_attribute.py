# escape: plant an attribute on the shared json module (json.marker) for the next tenant's call to find
# layer: guard
# expect: runtime_error cannot assign to or delete from 'ModuleView' objects
# then: contained
# tenants: A B
import json


def tool(conv):
    json.marker = "planted by tenant A"
    return "planted"


def phase2(conv):
    try:
        json.marker
    except AttributeError:
        return "contained"
    return "escaped: json.marker survived into tenant B's call"
