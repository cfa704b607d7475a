# escape: io beyond StringIO/BytesIO: open, FileIO, TextIOWrapper, open_code, and a StringIO's fileno
# layer: views
# expect: contained
import io


def tool(conv):
    for name in ("open", "FileIO", "TextIOWrapper", "BufferedReader", "open_code", "IOBase", "RawIOBase"):
        try:
            getattr(io, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "io.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: io.%s is reachable" % name
    for stream in (io.StringIO("x"), io.BytesIO(b"x")):
        try:
            stream.fileno()
        except Exception as exc:
            if type(exc).__name__ != "UnsupportedOperation":
                return "fileno refused for another reason: %s" % exc
            continue
        return "escaped: an in-memory stream has a file descriptor"
    return "contained"
