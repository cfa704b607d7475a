# escape: declare a guard name global and rebind it for the whole module (RestrictedPython checks no names in 'global')
# layer: compile+guard
# expect: runtime_error cannot assign to or delete from 'ModuleView' objects
# moved: guard names could not be bound at all; the guards are now called by names no tool can spell ($getattr...), so a tool's own _getattr_/_write_/_getiter_ is just its variable, and the real guards still run
import json


def disarm():
    global _write_
    _write_ = lambda ob: ob


def tool(conv):
    disarm()
    json.dumps = None
    return "escaped"
