# escape: set a class attribute on a shared stdlib class (json.JSONEncoder.item_separator) that every later json.dumps uses
# layer: guard
# expect: runtime_error cannot assign to or delete from 'type' objects
# then: contained
# tenants: A B
import json


def tool(conv):
    json.JSONEncoder.item_separator = "<planted>"
    return "planted"


def phase2(conv):
    if json.dumps([1, 2]) == "[1, 2]":
        return "contained"
    return "escaped: JSONEncoder was changed"
