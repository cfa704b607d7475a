# escape: dataclasses.dataclass(frozen=True) applied to a class the tool did not define (string.Template) sets its __setattr__: every Template in the process breaks
# layer: views
# expect: contained
# LIVE today: the stand-in registers a rebuilt tool class but never checks that its argument
# is one. dataclass(frozen=True)(json.JSONEncoder) the same way breaks the runtime's own reply
# encoding (the call ends as internal_error), and dataclass(Conversation) rewrites a runtime class.
import dataclasses
import string


def tool(conv):
    try:
        dataclasses.dataclass(frozen=True)(string.Template)
    except Exception as exc:
        return "contained" if "tool" in str(exc) else "failed for another reason: %s" % exc
    try:
        string.Template("$name")
    except Exception as exc:
        return "escaped: string.Template is broken for every later call: %s: %s" % (type(exc).__name__, exc)
    return "escaped: rewrote string.Template"
