# escape: return a 10 MB string to flood the supervisor and the caller
# layer: normalize
# expect: output_limit the return value exceeds
def tool(conv):
    return "x" * (10 * 1024 * 1024)
