# escape: a module view keeps its members under _view_members: read it by name, and by a private name mangled inside a class named like the slot's prefix
# layer: guard
# expect: contained
import json


class _view:
    def peek(self, module):
        return module.__members


def tool(conv):
    refused = []
    try:
        getattr(json, "_view_members")
    except AttributeError as error:
        refused.append("not on 'ModuleView' objects" in str(error))
    try:
        _view().peek(json)
    except AttributeError as error:
        refused.append("'_view__members'" in str(error))
    if refused == [True, True]:
        return "contained"
    return f"escaped: {refused}"
