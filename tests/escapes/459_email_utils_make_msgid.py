# escape: email.utils.make_msgid (host name lookup through DNS) and the email package's other submodules through the view
# layer: views
# expect: contained
import email.utils


def tool(conv):
    for name in ("make_msgid", "socket", "os", "time", "_parseaddr", "charset", "decode_rfc2231", "collapse_rfc2231_value"):
        try:
            getattr(email.utils, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "email.utils.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: email.utils.%s is reachable" % name
    try:
        getattr(email, "message")
    except AttributeError:
        pass
    else:
        return "escaped: email.message is reachable from the package view"
    return "contained"
