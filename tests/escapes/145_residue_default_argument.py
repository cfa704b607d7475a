# escape: cache an object in a module-level function's default argument and find it in the next tenant's call
# layer: process
# expect: contained
# then: contained
# tenants: A B
def remember(item, seen=[]):
    seen.append(item)
    return seen


def tool(conv):
    remember("secret of tenant A")
    remember("another secret of tenant A")
    return "contained"


def phase2(conv):
    seen = remember("tenant B")
    if seen == ["tenant B"]:
        return "contained"
    return "escaped: " + repr(seen)
