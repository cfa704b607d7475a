# escape: declare a guard name global and rebind it for the whole module (RestrictedPython checks no names in 'global')
# layer: compile
# expect: compile_error name '_write_' is not allowed
import json


def disarm():
    global _write_
    _write_ = lambda ob: ob


def tool(conv):
    disarm()
    json.dumps = None
    return "escaped"
