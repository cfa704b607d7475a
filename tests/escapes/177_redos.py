# escape: catastrophic backtracking: (a+)+$ against 'aaaa...b' runs for centuries inside the C regex engine
# layer: deadline
# expect: timeout
import re


def tool(conv):
    return str(re.match(r"(a+)+$", "a" * 64 + "b"))
