# escape: the entity tables behind html.unescape (html.entities, a shared dict) through the view and the function's globals
# layer: views
# expect: contained
import html


def tool(conv):
    for name in ("entities", "parser", "_charref", "_html5"):
        try:
            getattr(html, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "html.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: html.%s is reachable" % name
    try:
        getattr(html.unescape, "__globals__")
    except AttributeError as exc:
        if "__globals__" not in str(exc):
            return "__globals__ refused for another reason: %s" % exc
    else:
        return "escaped: read html.unescape.__globals__"
    return "contained" if html.unescape("&eacute;") == "\u00e9" else "unescape broke"
