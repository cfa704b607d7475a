# escape: operator.methodcaller("__setattr__", ...) calls a data-model method by name on conv, past the compiler's view of the attribute
# layer: guard
# expect: runtime_error __setattr__ of 'Conversation' objects is not available to tools
import operator


def tool(conv):
    operator.methodcaller("__setattr__", "_state", None)(conv)
    return "escaped"
