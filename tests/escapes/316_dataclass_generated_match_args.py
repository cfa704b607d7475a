# escape: @dataclass writes __match_args__ from the field names itself, after the class guard checked the class body: a private field makes a match class pattern read _secrets natively from any class a tool ABC registered
# layer: guard
# expect: contained
# LIVE today: the pattern reads conv.utils._secrets. Fix: whatever checks __match_args__ must also check the one dataclass() generates (the dataclass wrapper re-checks the class it returns), and register() accepts only tool classes
from abc import ABC
from dataclasses import dataclass


def tool(conv):
    try:
        @dataclass
        class Peek(ABC):
            _secrets: object = None

        Peek.register(type(conv.utils))
    except (TypeError, AttributeError) as error:
        if "__match_args__" in str(error) or "register" in str(error):
            return "contained"
        return f"refused for another reason: {error}"
    match conv.utils:
        case Peek(secrets):
            return f"escaped: conv.utils._secrets read through a dataclass's __match_args__ ({type(secrets).__name__})"
    return "contained"
