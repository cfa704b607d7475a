# escape: return bytes (not JSON) to break the reply encoding
# layer: normalize
# expect: invalid_return bytes cannot be stored
def tool(conv):
    return b"\x00\xff raw bytes"
