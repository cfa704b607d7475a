# escape: an HMAC object's inner and outer hash objects and key material (_inner, _outer, _hmac) through the guard
# layer: guard
# expect: contained
import hmac


def tool(conv):
    mac = hmac.new(b"webhook-secret", b"payload", "sha256")
    for name in ("_inner", "_outer", "_hmac", "_digest_cons"):
        try:
            getattr(mac, name)
        except AttributeError as exc:
            if "names starting with '_'" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: read HMAC.%s" % name
    return "contained" if len(mac.hexdigest()) == 64 else "hmac broke"
