# escape: datetime.datetime_CAPI (a capsule of C function pointers) and the modules datetime holds, through the view
# layer: views
# expect: contained
import datetime


def tool(conv):
    for name in ("datetime_CAPI", "sys", "_time", "_divide_and_round"):
        try:
            getattr(datetime, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "datetime.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: datetime.%s is reachable" % name
    return "contained" if datetime.datetime.strptime("2024-05-01", "%Y-%m-%d").month == 5 else "strptime broke"
