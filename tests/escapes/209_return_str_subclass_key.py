# escape: a str-subclass dict key that is hashable (no __eq__ override) but carries its own __init__ side effects
# layer: normalize
# expect: contained
# moved: a subclass of a plain type was refused; it is now stored as its plain value, as json.dumps stores a StrEnum member, read through the base type's C methods, so the lying methods never run in the runtime
class Key(str):
    def __init__(self, value):
        self.extra = "tool state riding on the key"

    def __str__(self):
        return "escaped"


def tool(conv):
    return {Key("content"): "contained"}
