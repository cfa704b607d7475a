# escape: True where an int is expected (bool is an int subclass), to slip a type past a numeric check
# layer: normalize
# expect: invalid_return must be an int, got bool
def tool(conv):
    return {"listen": {"dtmf": {"num_digits": True}}}
