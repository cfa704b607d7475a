# escape: __match_args__ = ("format",) on a tool ABC that registers str: the match pattern binds the real, unguarded str.format, whose fields walk to a runtime function's globals and builtins
# layer: guard
# expect: contained
# LIVE today: the real str.format renders the runtime's builtins. Fix: __match_args__ may not name what the guard decides per object (format, format_map, obj, fget, register...)
from abc import ABC


def tool(conv):
    try:
        class Peek(ABC):
            __match_args__ = ("format",)

        Peek.register(str)
    except (TypeError, AttributeError) as error:
        if "__match_args__" in str(error) or "register" in str(error):
            return "contained"
        return f"refused for another reason: {error}"
    match "{0.__init__.__globals__[__builtins__][eval]}":
        case Peek(real_format):
            text = real_format(conv.state)
            return f"escaped: the real str.format rendered {text}"
    return "contained"
