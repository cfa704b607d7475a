# escape: infinity, which json.dumps writes as the non-JSON token Infinity
# layer: normalize
# expect: invalid_return infinity cannot be stored
def tool(conv):
    return {"listen": {"barge_in": {"is_enabled": True, "interruption_window": float("inf")}}}
