# escape: reach socket through a door module (typing.sys.modules), invisible to the compiler's import check
# layer: views
# expect: runtime_error module 'typing' has no attribute 'sys' available to tools
import typing


def tool(conv):
    socket = typing.sys.modules["socket"]
    s = socket.socket()
    s.connect(("1.1.1.1", 53))
    return "escaped"
