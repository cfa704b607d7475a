# escape: return a str subclass whose __eq__ lies, hoping the runtime compares or hashes it in trusted code
# layer: normalize
# expect: contained
# moved: a subclass of a plain type was refused; it is now stored as its plain value, as json.dumps stores a StrEnum member, read through the base type's C methods, so the lying methods never run in the runtime
class Liar(str):
    def __str__(self):
        return "escaped: __str__ ran in the runtime"

    def __eq__(self, other):
        return False

    def __hash__(self):
        return 0


def tool(conv):
    return Liar("contained")
