# escape: json's submodules and the C scanner/encoder factories (json.decoder, json.scanner, c_make_encoder) through the view
# layer: views
# expect: contained
import json


def tool(conv):
    for name in ("decoder", "encoder", "scanner", "load", "dump", "_default_encoder", "detect_encoding"):
        try:
            getattr(json, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "json.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: json.%s is reachable" % name
    scanner = json.JSONDecoder().scan_once
    if hasattr(scanner, "__self__") or hasattr(scanner, "_parse_object"):
        return "escaped: the scanner's internals are readable"
    return "contained"
