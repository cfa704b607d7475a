# escape: setattr() on a module to replace json.dumps for everyone sharing the process
# layer: compile
# expect: compile_error 'setattr' is not allowed
import json


def tool(conv):
    setattr(json, "dumps", lambda *a, **k: "pwned")
    return json.dumps({})
