# escape: assign a plain list to the state (checked), then smuggle a str subclass into it after the check
# layer: normalize
# expect: runtime_error a str subclass (Liar) cannot be stored
class Liar(str):
    def __eq__(self, other):
        return True


def tool(conv):
    conv.state.items = []
    conv.state.items.append(Liar("smuggled"))
    return "stored"
