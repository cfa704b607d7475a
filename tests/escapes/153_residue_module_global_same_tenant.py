# escape: a module-level cache keeps one conversation's data for the next conversation of the same tenant (fresh mode)
# layer: process
# expect: contained
# then: contained
# tenants: A A
CACHE = {}


def tool(conv):
    CACHE["caller"] = "+15551230000"
    return "contained"


def phase2(conv):
    if CACHE == {}:
        return "contained"
    return "escaped: " + repr(CACHE)
