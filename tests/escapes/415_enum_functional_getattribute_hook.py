# escape: Enum("Intent", {"BOOK": 1, "__getattribute__": spy}) installs a hook on every attribute read of the members, including enum's own reads
# layer: views
# expect: contained
# LIVE today: see 414; the class guard refuses __getattribute__ because it runs on the
# runtime's reads, and here enum's own code reads _value_ through the tool's function.
import enum

SEEN = []


def spy(self, name):
    SEEN.append(name)
    raise AttributeError(name)


def tool(conv):
    try:
        enum.Enum("Intent", {"BOOK": 1, "__getattribute__": spy})
    except Exception as exc:
        if not SEEN and ("not allowed" in str(exc) or "tool" in str(exc)):
            return "contained"
    if SEEN:
        return "escaped: the tool's __getattribute__ ran for the standard library's reads %r" % SEEN[:4]
    return "contained"
