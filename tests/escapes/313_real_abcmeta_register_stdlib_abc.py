# escape: the real type (typing.get_origin) applied to ABC gives the real ABCMeta, whose register is read from the class unguarded: ABCMeta.register(Mapping, Conversation) rewrites isinstance() for the whole process
# layer: guard
# expect: contained
# LIVE today: isinstance(conv, Mapping) becomes True. Fix: see 306 (no real metaclass for tools); the guard could also refuse ABCMeta.register read unbound from ABCMeta
import typing
from abc import ABC
from collections.abc import Mapping


def tool(conv):
    try:
        real_type = typing.get_origin(typing.Type[int])
        real_abcmeta = real_type(ABC)
        real_abcmeta.register(Mapping, type(conv))
    except (TypeError, AttributeError):
        return "contained"
    if isinstance(conv, Mapping):
        return "escaped: registered Conversation as a Mapping for the whole process"
    return "contained"
