# escape: sys._getframe(1).f_globals: the runtime's frame above the tool, with real modules
# layer: compile
# expect: compile_error import of 'sys' is not allowed
import sys


def tool(conv):
    return str(sys._getframe(1).f_globals["os"])
