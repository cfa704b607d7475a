# escape: a field nested inside a format spec ("{0:{1.f_back}}") is resolved by str.format before the spec is applied; hide the door there
# layer: guard
# expect: runtime_error attribute 'f_back' is not available to tools
def tool(conv):
    return "{0:{1.f_back}}".format(1, 2)
