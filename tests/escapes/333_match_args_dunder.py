# escape: __match_args__ names attributes that a match class pattern reads natively, around the attribute guard: name __dict__ to read the namespace of a subject
# layer: guard
# expect: runtime_error __match_args__ may name only attributes the tool could read itself
class Peek:
    __match_args__ = ("__dict__",)


def tool(conv):
    return "escaped"
