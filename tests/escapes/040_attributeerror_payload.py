# escape: the AttributeError a view raises must carry no object: look for the real module in args/name
# layer: guard
# expect: contained
import json


def tool(conv):
    # In plain Python the AttributeError of a failed module lookup carries the module in
    # .obj; this case reads what can be read without that name: the args and .name.
    try:
        json.codecs
    except AttributeError as e:
        for item in e.args:
            if not isinstance(item, str):
                return "escaped: a non-text payload in args"
        if e.name is not None and not isinstance(e.name, str):
            return "escaped: a non-text .name"
        return "contained"
    return "escaped: json.codecs is reachable"
