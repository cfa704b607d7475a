# escape: bind 'open' somewhere in the file so the compiler lets the builtin name through, then call it
# layer: guard
# expect: runtime_error name 'open' is not defined
def tool(conv):
    # The compiler allows the name because the file binds it (below); at run time the
    # name must still resolve to nothing, because the tool's builtins hold no open().
    return open("/proc/self/environ").read()


def unused():
    open = None
    return open
