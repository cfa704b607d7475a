# escape: a DAG of 30 levels of [a, a] is tiny in memory but has 2**30 paths: make the return walk take forever
# layer: normalize
# expect: invalid_return too many items
def tool(conv):
    node = ["leaf"]
    for i in range(30):
        node = [node, node]
    return {"content": "x", "listen": {"asr": {"keywords": node}}}
