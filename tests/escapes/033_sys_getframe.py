# escape: sys._getframe(1) is the runtime's frame above the tool: its f_builtins hold the real __import__
# layer: compile
# expect: compile_error import of 'sys' is not allowed
import sys


def tool(conv):
    return sys._getframe(1).f_builtins["__import__"]("os").getcwd()
