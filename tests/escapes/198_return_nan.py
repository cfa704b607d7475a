# escape: NaN, which json.dumps writes as the non-JSON token NaN
# layer: normalize
# expect: invalid_return NaN cannot be stored
def tool(conv):
    return {"listen": {"asr": {"timeout": float("nan")}}}
