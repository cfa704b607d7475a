# escape: re-run a runtime class's __init__ on the runtime's own object, through super(Utils, conv.utils) and through the class (ModuleView.__init__ on a view)
# layer: guard
# expect: contained
import json


def tool(conv):
    refused = []
    try:
        super(type(conv.utils), conv.utils).__init__()
    except AttributeError as error:
        refused.append("super(Utils, ...) is not available to tools" in str(error))
    try:
        type(conv.utils).__init__(conv.utils, {"forged": "secret"})
    except TypeError as error:
        refused.append("applies only to the tool's own objects" in str(error))
    try:
        type(json).__init__(json, None, "json", {})
    except TypeError as error:
        refused.append("applies only to the tool's own objects" in str(error))
    if refused == [True, True, True]:
        return "contained"
    return f"escaped: {refused}"
