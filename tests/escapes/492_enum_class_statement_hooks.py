# escape: an Enum defined by a class statement with a refused member (__getattribute__) among its members
# layer: compile
# expect: compile_error __getattribute__
import enum


class Intent(enum.Enum):
    BOOK = 1

    def __getattribute__(self, name):
        return "hooked"


def tool(conv):
    return "escaped"
