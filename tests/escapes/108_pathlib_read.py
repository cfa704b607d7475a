# escape: pathlib.Path(...).read_text() as a file reader without open()
# layer: compile
# expect: compile_error import of 'pathlib' is not allowed
from pathlib import Path


def tool(conv):
    return Path("/proc/self/cmdline").read_text()
