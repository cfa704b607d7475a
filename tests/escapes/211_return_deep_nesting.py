# escape: 10,000 levels of nested lists, to overflow a recursive serializer
# layer: normalize
# expect: invalid_return nested more than 64 levels deep
def tool(conv):
    node = []
    for i in range(10000):
        node = [node]
    return {"content": "x", "listen": {"asr": {"keywords": node}}}
