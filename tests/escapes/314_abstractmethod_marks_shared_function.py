# escape: abc.abstractmethod (and typing.final, typing.no_type_check) set an attribute on any function they are given: abstractmethod(json.dumps) writes __isabstractmethod__ onto the standard library's shared function, so every ABC holding it becomes abstract
# layer: guard
# expect: contained
# LIVE today: json.dumps is marked abstract. Fix: stand-ins that apply these decorators only to the tool's own functions and classes
import abc
import json


def tool(conv):
    try:
        abc.abstractmethod(json.dumps)
    except (TypeError, AttributeError):
        return "contained"

    class Encoder(abc.ABC):
        encode = json.dumps

    try:
        Encoder()
    except TypeError:
        return "escaped: abstractmethod() wrote onto json.dumps (ABCs holding it became abstract)"
    return "contained"
