# escape: io.open(3) wraps an inherited descriptor (the parent's channel) as a file
# layer: views
# expect: runtime_error module 'io' has no attribute 'open' available to tools
# moved: io could not be imported; tools now get io.StringIO/BytesIO only, so io.open is not there
import io


def tool(conv):
    return io.open(3, "rb", closefd=False).read(100).decode()
