# escape: collections.abc.Mapping.register(Conversation): register a runtime class on a standard library ABC, rewriting isinstance() for the whole process
# layer: guard
# expect: runtime_error register() is available only on the tool's own ABCs
from collections.abc import Mapping


def tool(conv):
    Mapping.register(type(conv))
    return "escaped"
