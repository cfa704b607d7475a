# escape: return an instance of a tool class, with properties that run tool code when read
# layer: normalize
# expect: invalid_return a value of type Thing cannot be stored
class Thing:
    content = property(lambda self: "read in trusted code")


def tool(conv):
    return Thing()
