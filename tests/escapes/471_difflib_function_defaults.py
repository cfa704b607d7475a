# escape: difflib.IS_LINE_JUNK's default argument (a compiled pattern's bound match) and its module through __defaults__/__globals__; HtmlDiff through the view
# layer: guard
# expect: contained
import difflib


def tool(conv):
    for name in ("__defaults__", "__kwdefaults__", "__globals__"):
        try:
            getattr(difflib.IS_LINE_JUNK, name)
        except AttributeError as exc:
            if "not available to tools" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: read IS_LINE_JUNK.%s" % name
    for name in ("HtmlDiff", "restore", "_mdiff"):
        try:
            getattr(difflib, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "difflib.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: difflib.%s is reachable" % name
    return "contained"
