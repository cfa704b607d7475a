# escape: rebind the builtin len from inside the tool (global statement), hoping it lands in the builtins shared by the runtime and the next call
# layer: guard
# expect: contained
# then: contained
# tenants: A B
import statistics


def evil_len(x):
    return 42


def tool(conv):
    global len
    len = evil_len
    # The rebinding may only shadow the name in this tool's own module: library code
    # (statistics.mean uses the real len) must be unaffected.
    if statistics.mean([1, 2, 3]) == 2:
        return "contained"
    return "escaped: the builtins shared with library code changed"


def phase2(conv):
    if len([1, 2, 3]) == 3 and statistics.mean([1, 2, 3]) == 2:
        return "contained"
    return "escaped: len is still rebound"
