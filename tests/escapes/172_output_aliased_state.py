# escape: the same amplification in the state: 100 MB of JSON from 1 MB of memory
# layer: normalize
# expect: output_limit the state exceeds
def tool(conv):
    chunk = "z" * 10000
    conv.state.rows = [chunk] * 10000
    return "stored"
