# escape: EnumType writes its helpers into the tool Enum's own namespace (_new_member_, _member_map_...), so the guard takes them for names the tool defined: Color._new_member_ is the raw object.__new__, which builds runtime objects (Conversation, a module view) behind their constructors
# layer: guard
# expect: contained
# LIVE today: object.__new__(Conversation) is refused, Color._new_member_(Conversation) is not. Fix: private names the metaclass put in the namespace (not the class body) stay the standard library's, or _screen wraps a builtin __new__ whatever name it was read under
from enum import Enum
import json


class Color(Enum):
    RED = 1


def tool(conv):
    refused = []
    try:
        Color._missing_
    except AttributeError as error:
        refused.append("readable only on the tool's own" in str(error))
    try:
        made = [Color._new_member_(type(conv)), Color._new_member_(type(json))]
    except (TypeError, AttributeError):
        refused.append(True)
    else:
        return f"escaped: built {[type(x).__name__ for x in made]} behind their constructors"
    if refused == [True, True]:
        return "contained"
    return f"escaped: {refused}"
