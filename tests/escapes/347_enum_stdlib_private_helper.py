# escape: a tool Enum inherits the standard library's private helpers: call Enum._missing_ / read Enum._generate_next_value_ as if they were the tool's
# layer: guard
# expect: runtime_error attribute '_missing_' is not available to tools
from enum import Enum


class Color(Enum):
    RED = 1


def tool(conv):
    return str(Color._missing_)
