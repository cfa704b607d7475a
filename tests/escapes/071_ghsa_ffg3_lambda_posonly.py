# escape: GHSA-ffg3-p8fm-mjx2 in a lambda: a positional-only _getiter_ parameter replaces the iteration guard
# layer: compile+guard
# expect: contained
# moved: guard names could not be bound at all; the guards are now called by names no tool can spell ($getattr...), so a tool's own _getattr_/_write_/_getiter_ is just its variable, and the real guards still run
CALLS = []


def spy(iterable):
    CALLS.append(iterable)
    return iter(iterable)


def tool(conv):
    leak = (lambda _getiter_=spy, /: [x for x in [1, 2]])()
    return "contained" if leak == [1, 2] and not CALLS else "escaped: the shadowing parameter was the iteration guard"
