# escape: an atexit handler that runs tool code when the child exits, after the verdict
# layer: compile
# expect: compile_error import of 'atexit' is not allowed
import atexit


def tool(conv):
    atexit.register(lambda: conv.set_variant("late"))
    return "registered"
