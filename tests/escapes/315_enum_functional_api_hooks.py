# escape: Enum's functional API builds a class from a mapping the tool passes, through EnumType and never the class guard: refused members such as __set_name__ and __del__ land on the class unchecked
# layer: guard
# expect: contained
# LIVE today: the enum member's __set_name__ runs when another class is built, and the members carry a finalizer. Fix: an Enum/IntEnum/StrEnum/Flag stand-in whose call form checks member names like a class statement (check_members) and registers the class as the tool's
import enum

calls = []


def hook(self, owner, name):
    calls.append(name)


def tool(conv):
    try:
        Status = enum.Enum("Status", {"OK": 1, "__set_name__": hook, "__del__": lambda self: None})
    except (TypeError, ValueError) as error:
        if "not allowed" in str(error):
            return "contained"
        return f"refused for another reason: {error}"

    class Order:
        status = Status.OK

    if calls:
        return f"escaped: built an enum around the class guard; its __set_name__ ran for {calls}"
    return "contained"
