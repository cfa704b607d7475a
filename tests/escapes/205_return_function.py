# escape: return a function, hoping the runtime calls it
# layer: normalize
# expect: invalid_return a function cannot be stored
def tool(conv):
    return lambda: "called in trusted code"
