# escape: bytes(n) of a huge n: one zero-filled allocation
# layer: rlimit
# expect: memory_limit
def tool(conv):
    return str(len(bytes(10**11)))
