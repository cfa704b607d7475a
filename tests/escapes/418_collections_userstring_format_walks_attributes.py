# escape: collections.UserString("{0.__init__.__globals__[__name__]}").format(obj) calls the real str.format from collections' code: field walks outside the guard (CVE-2023-41039)
# layer: views
# expect: contained
# LIVE today: the guard swaps str.format only when tool code reads it; UserString.format and
# format_map call self.data.format inside the standard library.
import collections

import phonenumbers


def tool(conv):
    template = collections.UserString("{0.__init__.__globals__[__name__]}")
    try:
        shown = str(template.format(phonenumbers.AsYouTypeFormatter("GB")))
    except Exception as exc:
        return "contained" if "tool" in str(exc) else "failed for another reason: %s: %s" % (type(exc).__name__, exc)
    return "escaped: read a runtime function's globals: %r" % shown
