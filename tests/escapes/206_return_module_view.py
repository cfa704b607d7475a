# escape: return a module (view) object itself
# layer: normalize
# expect: invalid_return a value of type ModuleView cannot be stored
import json


def tool(conv):
    return json
