# escape: base64.encode/decode (file objects) and the modules base64 holds (binascii, struct, re) through the views
# layer: views
# expect: contained
import base64
import binascii


def tool(conv):
    for module, name in ((base64, "encode"), (base64, "decode"), (base64, "binascii"), (base64, "struct"),
                         (base64, "main"), (binascii, "b2a_uu"), (binascii, "a2b_qp")):
        try:
            getattr(module, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: %s.%s is reachable" % (module.__name__, name)
    if base64.b64decode(base64.b64encode(b"ok")) != b"ok" or binascii.hexlify(b"\x01") != b"01":
        return "base64/binascii broke"
    return "contained"
