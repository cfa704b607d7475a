# escape: double a list until the host runs out of memory
# layer: rlimit
# expect: memory_limit
def tool(conv):
    x = [0]
    while True:
        x = x + x
