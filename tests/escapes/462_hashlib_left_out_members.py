# escape: hashlib.new (OpenSSL lookup by name), file_digest (files), pbkdf2_hmac/scrypt, and a constructor's __self__ (the C module)
# layer: views
# expect: contained
import hashlib


def tool(conv):
    for name in ("new", "file_digest", "pbkdf2_hmac", "scrypt", "algorithms_available", "_hashlib"):
        try:
            getattr(hashlib, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "hashlib.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: hashlib.%s is reachable" % name
    try:
        getattr(hashlib.sha256, "__self__")
    except AttributeError as exc:
        if "__self__" not in str(exc):
            return "__self__ refused for another reason: %s" % exc
    else:
        return "escaped: read hashlib.sha256.__self__"
    return "contained"
