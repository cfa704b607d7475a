# escape: raise an exception whose message is 8 MB, so the error report floods the supervisor
# layer: normalize (the child caps error texts; the supervisor caps the reply)
# expect: runtime_error more characters]
def tool(conv):
    raise ValueError("e" * (8 * 1024 * 1024))
