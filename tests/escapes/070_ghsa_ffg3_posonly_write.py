# escape: GHSA-ffg3-p8fm-mjx2 full exploit: shadow _write_ with a positional-only default and poison the shared json module
# layer: compile
# expect: compile_error name '_write_' is not allowed
import json


def poison(_write_=lambda ob: ob, /):
    json.dumps = lambda *args, **kwargs: "pwned"


def tool(conv):
    poison()
    return json.dumps({})
