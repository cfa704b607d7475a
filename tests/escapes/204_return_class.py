# escape: return a class object
# layer: normalize
# expect: invalid_return a class cannot be stored
class Payload:
    pass


def tool(conv):
    return Payload
