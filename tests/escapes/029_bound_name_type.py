# escape: bind 'type' elsewhere in the file so the compiler allows it, then use the real type() to build a class around the class guard
# layer: guard
# expect: runtime_error name 'type' is not defined
def tool(conv):
    sneaky = type("Sneaky", (), {"a": 1})
    return str(type(conv.state)) + str(sneaky)


def unused(type=None):
    return type
