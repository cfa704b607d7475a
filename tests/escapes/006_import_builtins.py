# escape: import the real builtins module for open/eval/__import__
# layer: compile
# expect: compile_error import of 'builtins' is not allowed
import builtins


def tool(conv):
    return builtins.open("/etc/passwd").read()
