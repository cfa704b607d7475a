# escape: unbounded recursion to overflow the interpreter's C stack and crash the worker
# layer: interpreter
# expect: runtime_error maximum recursion depth exceeded
def down(n):
    return down(n + 1) + 1


def tool(conv):
    return str(down(0))
