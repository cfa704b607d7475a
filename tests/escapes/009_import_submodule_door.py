# escape: import json.decoder (a submodule of an allowed module) to reach its re and scanner internals
# layer: compile
# expect: compile_error import of 'json.decoder' is not allowed
import json.decoder


def tool(conv):
    return str(json.decoder.scanstring('"x"', 1))
