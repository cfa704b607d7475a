# escape: type(x) to reach runtime classes (State is marked writable) and type(name, bases, dict)
# layer: compile
# expect: compile_error 'type' is not allowed
def tool(conv):
    state_class = type(conv.state)
    return str(state_class)
