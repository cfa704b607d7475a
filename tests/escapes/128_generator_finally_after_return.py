# escape: a generator's finally block is a finalizer RestrictedPython allows: it runs when the generator dies, after 'return'; make it never end
# layer: deadline
# expect: timeout
def ghost():
    try:
        yield 1
    finally:
        while True:
            pass


def tool(conv):
    g = ghost()
    next(g)
    # Returning drops the last reference: the finally block runs during the return.
    return "contained"
