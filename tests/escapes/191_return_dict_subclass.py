# escape: return a dict subclass whose __init__ and __eq__ run tool code when copied or compared
# layer: normalize
# expect: invalid_return a dict subclass (Sneaky) cannot be stored
class Sneaky(dict):
    def __eq__(self, other):
        return True


def tool(conv):
    return Sneaky(content="hi")
