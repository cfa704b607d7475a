# escape: requests with a file: URL, a CA bundle path (verify="/etc/..."), a client certificate path and a Session through the view
# layer: views
# expect: contained
# The supervisor would be the one to open such paths; the stand-in refuses them first.
import requests


def tool(conv):
    attempts = (
        ("file URL", lambda: requests.get("file:///etc/passwd"), "InvalidSchema"),
        ("verify path", lambda: requests.get("https://example.com", verify="/etc/ssl/certs"), "TypeError"),
        ("cert path", lambda: requests.get("https://example.com", cert="/etc/ssl/private/key.pem"), "TypeError"),
        ("proxies", lambda: requests.get("https://example.com", proxies={"https": "socks5://10.0.0.1"}), "TypeError"),
    )
    for name, attempt, kind in attempts:
        try:
            attempt()
        except Exception as exc:
            if type(exc).__name__ != kind:
                return "%s refused for another reason: %s: %s" % (name, type(exc).__name__, exc)
            continue
        return "escaped: %s was accepted" % name
    for name in ("Session", "adapters", "utils", "sessions"):
        if hasattr(requests, name):
            return "escaped: requests.%s is reachable" % name
    return "contained"
