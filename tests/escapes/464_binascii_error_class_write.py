# escape: rewrite binascii.Error (a shared exception class) so every later base64 failure raises the tool's text
# layer: guard
# expect: contained
import binascii


def hijack(self):
    return "hijacked"


def tool(conv):
    for name, value in (("__str__", hijack), ("note", "planted")):
        try:
            setattr(binascii.Error, name, value)
        except AttributeError as exc:
            if "not allowed in tools" not in str(exc) and "read-only to tools" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: set binascii.Error.%s" % name
    return "contained"
