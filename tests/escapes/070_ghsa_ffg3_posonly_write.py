# escape: GHSA-ffg3-p8fm-mjx2 full exploit: shadow _write_ with a positional-only default and poison the shared json module
# layer: compile+guard
# expect: runtime_error cannot assign to or delete from 'ModuleView' objects
# moved: guard names could not be bound at all; the guards are now called by names no tool can spell ($getattr...), so a tool's own _getattr_/_write_/_getiter_ is just its variable, and the real guards still run
import json


def poison(_write_=lambda ob: ob, /):
    json.dumps = lambda *args, **kwargs: "pwned"


def tool(conv):
    poison()
    return json.dumps({})
