# escape: leave an ExitStack (and a generator context manager) open with callbacks that write the state, hoping they run after the call, in the reply path
# layer: process
# expect: contained
# Nothing closes the stack after the tool returns: the objects are kept until the process
# exits (entry._KEEP) and the single-use process never runs them.
import contextlib

KEPT = []


@contextlib.contextmanager
def session(conv):
    try:
        yield "open"
    finally:
        conv.state["late"] = "generator finally ran"


def tool(conv):
    def late():
        conv.state["late"] = "callback ran"

    stack = contextlib.ExitStack()
    stack.callback(late)
    stack.enter_context(session(conv))
    KEPT.append(stack)
    KEPT.append(KEPT)  # a cycle, for the collector
    if conv.state.get("late") is not None:
        return "a callback ran during the call"
    return "contained"
