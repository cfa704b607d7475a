# escape: return a str subclass whose __eq__ lies, hoping the runtime compares or hashes it in trusted code
# layer: normalize
# expect: invalid_return a str subclass (Liar) cannot be stored
class Liar(str):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False


def tool(conv):
    return Liar("hello")
