# escape: type(SomeClass) and type(type) as a way to a real metaclass: call it with three arguments, or subclass what it returns, to build a class with __del__ around the class guard
# layer: guard
# expect: contained
from abc import ABC


def tool(conv):
    refused = []
    try:
        type(ABC)("Sneaky", (), {"__del__": print})
    except TypeError as error:
        refused.append("type() takes one argument" in str(error))
    tool_type_class = type(type)

    class Sub(tool_type_class):
        pass

    try:
        Sub()("Sneaky", (), {"__del__": print})
    except TypeError as error:
        refused.append("type() takes one argument" in str(error))
    try:
        class Meta(type):
            pass
    except TypeError as error:
        refused.append("cannot subclass 'type'" in str(error))
    if refused == [True, True, True] and type(int) is type:
        return "contained"
    return f"escaped: {refused}"
