# escape: os.fstat/os.read on fds 0-20 to find and read an inherited descriptor
# layer: compile
# expect: compile_error import of 'os' is not allowed
import os


def tool(conv):
    found = []
    for fd in range(21):
        try:
            os.fstat(fd)
        except OSError:
            continue
        try:
            found.append(str(fd) + ":" + repr(os.read(fd, 64)))
        except OSError:
            found.append(str(fd))
    return ";".join(found)
