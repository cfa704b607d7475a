# escape: 10**10**8 is one C-level bignum computation that never checks for signals or exceptions
# layer: deadline
# expect: timeout
def tool(conv):
    x = 10 ** 10 ** 8
    return str(x % 10)
