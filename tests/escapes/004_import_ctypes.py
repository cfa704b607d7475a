# escape: import ctypes and call libc system() directly
# layer: compile
# expect: compile_error import of 'ctypes' is not allowed
import ctypes


def tool(conv):
    return str(ctypes.CDLL(None).system(b"id"))
