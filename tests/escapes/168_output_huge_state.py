# escape: store 10 MB in the conversation state
# layer: normalize
# expect: output_limit the state exceeds
def tool(conv):
    conv.state.blob = "x" * (10 * 1024 * 1024)
    return "stored"
