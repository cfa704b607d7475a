# escape: weakref.finalize registers a callback that runs at collection or exit
# layer: compile
# expect: compile_error import of 'weakref' is not allowed
import weakref


class Box:
    pass


def tool(conv):
    weakref.finalize(Box(), lambda: None)
    return "registered"
