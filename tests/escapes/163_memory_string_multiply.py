# escape: allocate a 10 GB string to exhaust the host's memory
# layer: rlimit
# expect: memory_limit
def tool(conv):
    s = "a" * 10**10
    return str(len(s))
