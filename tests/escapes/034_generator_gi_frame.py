# escape: a generator's gi_frame.f_globals is the tool's module namespace, where the guards live: replace _write_ to disarm the write guard
# layer: compile
# expect: compile_error attribute 'gi_frame' is not available to tools
import json


def walk():
    yield 1


def tool(conv):
    namespace = walk().gi_frame.f_globals
    namespace["_write_"] = lambda ob: ob
    json.dumps = None
    return "escaped"
