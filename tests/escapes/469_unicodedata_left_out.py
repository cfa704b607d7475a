# escape: unicodedata's other database object (ucd_3_2_0) and its C capsule (_ucnhash_CAPI)
# layer: views
# expect: contained
import unicodedata


def tool(conv):
    for name in ("ucd_3_2_0", "_ucnhash_CAPI", "UCD"):
        try:
            getattr(unicodedata, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "unicodedata.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: unicodedata.%s is reachable" % name
    return "contained" if unicodedata.normalize("NFKD", "\u00e9") == "e\u0301" else "normalize broke"
