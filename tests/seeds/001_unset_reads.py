# seed 001 "Reading variables that haven't been set"
def read_unset(conv: Conversation):
    a = conv.state.foo            # None if never set
    b = conv.state["foo"]         # None if never set
    c = conv.state.get("foo")     # None if never set (with optional default)
    conv.state.reads = [a, b, c, conv.state.get("foo", "fallback")]
