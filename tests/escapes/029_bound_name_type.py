# escape: bind 'type' elsewhere in the file so the compiler allows it, then use type() to build a class around the class guard
# layer: guard
# expect: runtime_error type() takes one argument in tools
# moved: was "name 'type' is not defined"; the tools' type is now the guarded one-argument type()
def tool(conv):
    sneaky = type("Sneaky", (), {"a": 1})
    return str(type(conv.state)) + str(sneaky)


def unused(type=None):
    return type
