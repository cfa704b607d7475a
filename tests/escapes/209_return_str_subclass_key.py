# escape: a str-subclass dict key that is hashable (no __eq__ override) but carries its own __init__ side effects
# layer: normalize
# expect: invalid_return a dict key of type Key cannot be stored
class Key(str):
    def __init__(self, value):
        self.extra = "tool state riding on the key"


def tool(conv):
    return {Key("content"): "hello"}
