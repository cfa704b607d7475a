# escape: return a dict subclass whose __init__ and __eq__ run tool code when copied or compared
# layer: normalize
# expect: contained
# moved: a subclass of a plain type was refused; it is now stored as its plain value, as json.dumps stores a StrEnum member, read through the base type's C methods, so the lying methods never run in the runtime
class Sneaky(dict):
    def __eq__(self, other):
        return True

    def items(self):
        return [("content", "escaped: items() ran in the runtime")]

    def __iter__(self):
        return iter(["escaped"])

    def __getitem__(self, key):
        return "escaped: __getitem__ ran in the runtime"


def tool(conv):
    return Sneaky(content="contained")
