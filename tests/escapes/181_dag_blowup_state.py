# escape: the same DAG blow-up stored in the state, checked when the call ends
# layer: normalize
# expect: runtime_error too many items
def tool(conv):
    conv.state.tree = []
    node = ["leaf"]
    for i in range(30):
        node = [node, node]
    conv.state.tree.append(node)
    return "stored"
