# escape: a thread that keeps running (and writing state) after the call returns
# layer: compile
# expect: compile_error import of 'threading' is not allowed
import threading


def tool(conv):
    def later():
        conv.state.late = "written after return"

    threading.Timer(0.5, later).start()
    return "started"
