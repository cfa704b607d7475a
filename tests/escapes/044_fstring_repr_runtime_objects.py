# escape: f-string !r / !s / format specs on runtime objects and views, hoping a repr reveals secrets, host paths or the real module
# layer: views
# expect: contained
import json
import datetime


def tool(conv):
    shown = f"{json!r} {json!s} {datetime!r} {conv!r} {conv.utils!r} {log!r} {json.loads!r:>20}"
    # A real module's repr names its file on the host; the view's must not.
    if "/" in shown.replace("</", "<"):
        return "escaped: " + shown
    if "from '" in shown or "(built-in)" in shown:
        return "escaped: " + shown
    return "contained"
