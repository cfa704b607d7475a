# escape: json.codecs.builtins is the real builtins module (open, eval, __import__)
# layer: views
# expect: runtime_error module 'json' has no attribute 'codecs' available to tools
import json


def tool(conv):
    return json.codecs.builtins.open("/etc/passwd").read()
