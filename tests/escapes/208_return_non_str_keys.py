# escape: a dict with tuple and int keys, which json.dumps coerces or rejects differently on each side
# layer: normalize
# expect: invalid_return keys must be str
def tool(conv):
    return {("content",): "x", 1: "y"}
