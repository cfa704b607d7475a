# escape: type(x) to reach runtime classes, re-initialise conv.state behind its checks, and type(name, bases, dict) to build a class around the class guard
# layer: guard
# expect: contained
# moved: was refused at compile time ('type' was not a builtin); type(x) now gives x's class, whose data-model methods apply only to the tool's own objects, and three-argument type() is refused
def tool(conv):
    state_class = type(conv.state)
    refused = []
    try:
        state_class.__init__(conv.state, {"forged": True})
    except TypeError as error:
        refused.append("applies only to the tool's own objects" in str(error))
    try:
        type("Sneaky", (), {"__del__": lambda self: None})
    except TypeError as error:
        refused.append("type() takes one argument" in str(error))
    try:
        type(state_class)("Sneaky", (), {})
    except TypeError as error:
        refused.append("type() takes one argument" in str(error))
    if refused == [True, True, True] and conv.state.forged is None:
        return "contained"
    return f"escaped: {refused}"
