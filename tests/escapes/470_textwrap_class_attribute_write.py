# escape: set a class attribute of textwrap.TextWrapper (width, wordsep_re) for every later wrap/fill/shorten
# layer: guard
# expect: runtime_error cannot assign to or delete from 'type' objects: they are read-only to tools
import textwrap


def tool(conv):
    textwrap.TextWrapper.width = 5
    return "escaped: %r" % textwrap.fill("every later call wraps at five")
