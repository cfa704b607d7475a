# escape: typing.sys, typing.types, typing.operator: real modules held by typing
# layer: views
# expect: runtime_error module 'typing' has no attribute 'sys' available to tools
import typing


def tool(conv):
    return str(typing.sys.modules["os"])
