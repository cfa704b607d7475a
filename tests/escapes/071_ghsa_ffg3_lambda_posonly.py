# escape: GHSA-ffg3-p8fm-mjx2 in a lambda: a positional-only _getiter_ parameter replaces the iteration guard
# layer: compile
# expect: compile_error name '_getiter_' is not allowed
def tool(conv):
    leak = (lambda _getiter_=iter, /: [x for x in conv.state])()
    return str(leak)
