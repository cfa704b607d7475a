# escape: setattr() on a module to replace json.dumps for everyone sharing the process
# layer: guard
# expect: runtime_error cannot assign to or delete from 'ModuleView' objects
# moved: was refused at compile time ('setattr' was not a builtin); setattr is now the guarded one, and a module view stays read-only
import json


def tool(conv):
    setattr(json, "dumps", lambda *a, **k: "pwned")
    return json.dumps({})
