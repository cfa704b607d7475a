# escape: a tool subclass of string.Template with its own idpattern/braceidpattern allowing dots, hoping substitute walks attributes
# layer: views
# expect: contained
# Template looks each matched name up as a key of the mapping, never as an attribute path.
import string

import phonenumbers


class Dotted(string.Template):
    idpattern = r"[a-z_][a-z0-9_.]*"


def tool(conv):
    text = Dotted("$fmt.__init__.__globals__").safe_substitute({"fmt": phonenumbers.AsYouTypeFormatter("GB")})
    if text != "$fmt.__init__.__globals__":
        return "escaped: the template resolved %r" % text
    return "contained"
