# escape: io.open(3) wraps an inherited descriptor (the parent's channel) as a file
# layer: compile
# expect: compile_error import of 'io' is not allowed
import io


def tool(conv):
    return io.open(3, "rb", closefd=False).read(100).decode()
