# escape: a tool ABC registers the runtime's Utils class, so a match class pattern reads conv.utils._secrets natively through __match_args__ (a single-underscore name passes the class guard's check, and register() accepts any class)
# layer: guard
# expect: contained
# LIVE today: the pattern binds the secrets dict. Fix: __match_args__ may name only public, non-door attributes wherever it is set, and register() on a tool ABC accepts only tool classes
from abc import ABC


def tool(conv):
    try:
        class Peek(ABC):
            __match_args__ = ("_secrets", "_used")

        Peek.register(type(conv.utils))
    except (TypeError, AttributeError) as error:
        if "__match_args__" in str(error) or "register" in str(error):
            return "contained"
        return f"refused for another reason: {error}"
    match conv.utils:
        case Peek(secrets, used):
            return f"escaped: conv.utils._secrets read natively ({type(secrets).__name__} of {len(secrets)})"
    return "contained"
