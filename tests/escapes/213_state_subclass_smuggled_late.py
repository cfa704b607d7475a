# escape: assign a plain list to the state (checked), then smuggle a str subclass into it after the check
# layer: normalize
# expect: contained
# moved: a subclass of a plain type was refused; it is now stored as its plain value, as json.dumps stores a StrEnum member, read through the base type's C methods, so the lying methods never run in the runtime
class Liar(str):
    def __eq__(self, other):
        return True

    def __str__(self):
        return "escaped"


def tool(conv):
    conv.state.items = []
    conv.state.items.append(Liar("smuggled"))
    return "contained"
