# escape: a tool ABC deriving from collections.abc.Sized that defines __subclasshook__, so isinstance(x, Sized) lies about every object
# layer: compile
# expect: compile_error __subclasshook__
import collections.abc


class Liar(collections.abc.Sized):
    @classmethod
    def __subclasshook__(cls, other):
        return True


def tool(conv):
    return "escaped"
