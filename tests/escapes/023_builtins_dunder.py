# escape: __builtins__ to fetch the real builtins (open, eval, __import__)
# layer: compile
# expect: compile_error name '__builtins__' is not available to tools
def tool(conv):
    return str(__builtins__["open"])
