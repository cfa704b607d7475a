# escape: a str with a lone surrogate, which is not valid UTF-8, to break the reply's encoding
# layer: normalize
# expect: invalid_return lone surrogate
def tool(conv):
    return "bad \ud800 text"
