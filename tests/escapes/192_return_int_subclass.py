# escape: return an int subclass (e.g. as a DTMF digit count) whose comparisons lie
# layer: normalize
# expect: invalid_return int subclass (Liar) cannot be stored
class Liar(int):
    def __lt__(self, other):
        return False

    def __ge__(self, other):
        return True


def tool(conv):
    return {"listen": {"dtmf": {"num_digits": Liar(-5)}}}
