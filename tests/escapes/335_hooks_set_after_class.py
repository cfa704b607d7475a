# escape: add the refused hooks (__del__, __set_name__, __class_getitem__, __getattribute__) to a tool class after the class guard checked it, with setattr and a computed name
# layer: guard
# expect: contained
class Tool:
    pass


def hook(*args):
    return None


def tool(conv):
    refused = []
    for name in ("__del__", "__set_name__", "__class_getitem__", "__getattri" + "bute__"):
        try:
            setattr(Tool, name, hook)
        except AttributeError as error:
            refused.append(f"setting {name!r} is not allowed in tools" in str(error))
    if refused == [True, True, True, True]:
        return "contained"
    return f"escaped: {refused}"
