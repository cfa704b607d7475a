# escape: math.factorial of a huge number: minutes of C code without a bytecode boundary
# layer: deadline
# expect: timeout
import math


def tool(conv):
    return str(math.factorial(10**8) % 7)
