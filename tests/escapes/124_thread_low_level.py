# escape: _thread.start_new_thread, the low-level thread API
# layer: compile
# expect: compile_error import of '_thread' is not allowed
import _thread


def tool(conv):
    _thread.start_new_thread(lambda: None, ())
    return "started"
