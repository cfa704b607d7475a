# escape: the runtime keeps its guards and the class mark under names starting with '$' ($getattr, $context, '$tool class'): reach or write them with getattr/setattr, which take any string
# layer: guard
# expect: contained
class Tool:
    pass


def tool(conv):
    refused = []
    for target, name in ((conv, "$context"), (Tool, "$tool class"), (tool, "$getattr")):
        try:
            getattr(target, name)
        except AttributeError as error:
            refused.append("names starting with '$' are the runtime's" in str(error))
    try:
        setattr(Tool, "$tool class", object())
    except AttributeError as error:
        refused.append("setting '$tool class' is not allowed in tools" in str(error))
    if refused == [True, True, True, True]:
        return "contained"
    return f"escaped: {refused}"
