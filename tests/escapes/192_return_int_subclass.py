# escape: return an int subclass (e.g. as a DTMF digit count) whose comparisons lie
# layer: normalize
# expect: invalid_return listen.dtmf.num_digits: must be >= 1, got -5
# moved: a subclass of a plain type was refused; it is now stored as its plain value, as json.dumps stores a StrEnum member, read through the base type's C methods, so the lying methods never run in the runtime
class Liar(int):
    def __lt__(self, other):
        return False

    def __ge__(self, other):
        return True


def tool(conv):
    return {"listen": {"dtmf": {"num_digits": Liar(-5)}}}
