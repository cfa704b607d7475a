# escape: a list that contains itself, to send the runtime's walk (or json.dumps) into endless recursion
# layer: normalize
# expect: invalid_return the value contains itself
def tool(conv):
    loop = []
    loop.append(loop)
    return {"content": "x", "listen": {"asr": {"keywords": loop}}}
