# escape: replace json.dumps in the shared module so another tenant's call serializes through tenant A's function
# layer: guard
# expect: runtime_error cannot assign to or delete from 'ModuleView' objects
# then: contained
# tenants: A B
import json


def spy(*args, **kwargs):
    return "intercepted"


def tool(conv):
    json.dumps = spy
    return "planted"


def phase2(conv):
    if json.dumps({"a": 1}) == '{"a": 1}':
        return "contained"
    return "escaped: json.dumps was replaced"
