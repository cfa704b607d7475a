# escape: raise an exception whose message holds a lone surrogate: the error report cannot be encoded as UTF-8, turning the tool's own failure into an internal_error (and dropping its logs)
# layer: normalize
# expect: runtime_error ValueError: bad
def tool(conv):
    log.info("written before the failure")
    raise ValueError("bad \ud800 text")
