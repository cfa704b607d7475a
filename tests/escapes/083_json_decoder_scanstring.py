# escape: json.decoder.scanstring and json.decoder.re: submodules hanging off the json package
# layer: views
# expect: runtime_error module 'json' has no attribute 'decoder' available to tools
import json


def tool(conv):
    return str(json.decoder.re.enum.sys.modules["os"])
