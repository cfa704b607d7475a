# escape: CVE-2025-22153: except* with a BaseExceptionGroup subclass whose split() returns a non-tuple (CPython type confusion, a segfault or worse)
# layer: compile
# expect: compile_error 'try/except*' is not allowed
class Evil(BaseExceptionGroup):
    def split(self, *args):
        return "NOT A TUPLE!"


def tool(conv):
    try:
        raise Evil("wow!", [Exception()])
    except* Exception:
        pass
    return "escaped"
