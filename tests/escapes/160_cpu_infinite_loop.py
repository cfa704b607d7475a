# escape: spin forever and hold the worker
# layer: deadline
# expect: timeout
def tool(conv):
    n = 0
    while True:
        n = n + 1
