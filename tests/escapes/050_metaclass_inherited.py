# escape: subclass a base built by a custom metaclass (typing.Any has _AnyMeta) to get metaclass hooks into a tool class
# layer: guard
# expect: runtime_error which is not available to tools
import typing


class Sneaky(typing.Any):
    pass


def tool(conv):
    return "escaped"
