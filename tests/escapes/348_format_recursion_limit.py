# escape: nest fields inside format specs three deep to get past the guarded formatter's own field resolution
# layer: guard
# expect: runtime_error Max string recursion exceeded
def tool(conv):
    return "{0:{1:{2.f_back}}}".format(1, 2, 3)
