# escape: textwrap.TextWrapper.unicode_whitespace_trans is a dict on the class: an item write changes textwrap.fill/wrap/shorten for every later call
# layer: views
# expect: contained
# LIVE today: dicts are item-writable for tools, and this one is the class's shared table.
import textwrap


def tool(conv):
    try:
        textwrap.TextWrapper.unicode_whitespace_trans[ord(" ")] = "_"
    except Exception as exc:
        return "contained" if type(exc) is TypeError else "failed for another reason: %s" % exc
    filled = textwrap.fill("open at nine")
    if filled != "open at nine":
        return "escaped: textwrap.fill now gives %r for every later call" % filled
    return "contained"
