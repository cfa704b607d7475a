# escape: urllib.parse's module-level tables (uses_netloc, uses_relative, scheme_chars, the quoter caches) that steer every later urljoin/urlsplit
# layer: views
# expect: contained
import urllib.parse


def tool(conv):
    for name in ("uses_netloc", "uses_relative", "uses_params", "scheme_chars", "_safe_quoters", "clear_cache",
                 "_implicit_encoding", "sys", "unwrap"):
        try:
            getattr(urllib.parse, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "urllib.parse.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: urllib.parse.%s is reachable" % name
    try:
        getattr(urllib, "request")
    except AttributeError:
        pass
    else:
        return "escaped: urllib.request from the package view"
    return "contained" if urllib.parse.urljoin("https://a.example/x/", "y") == "https://a.example/x/y" else "urljoin broke"
