# escape: raise an exception whose message is 8 MB, so the error report floods the supervisor
# layer: normalize
# expect: output_limit
def tool(conv):
    raise ValueError("e" * (8 * 1024 * 1024))
