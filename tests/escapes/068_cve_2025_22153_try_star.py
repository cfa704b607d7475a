# escape: CVE-2025-22153: except* with an ExceptionGroup subclass whose split() returns a non-tuple (CPython type confusion)
# layer: compile
# expect: compile_error 'try/except*' is not allowed
class Evil(Exception):
    def split(self, *args):
        return "NOT A TUPLE"


def tool(conv):
    try:
        raise Evil("boom")
    except* Exception:
        pass
    return "escaped"
