# escape: ZoneInfo's private loaders (_unpickle with from_cache=False loads from disk, _new_instance) and a zone's private fields
# layer: guard
# expect: contained
from zoneinfo import ZoneInfo


def tool(conv):
    for target, name in ((ZoneInfo, "_unpickle"), (ZoneInfo, "_new_instance"), (ZoneInfo("UTC"), "_key"),
                         (ZoneInfo("UTC"), "_file_repr"), (ZoneInfo, "_weak_cache")):
        try:
            getattr(target, name)
        except AttributeError as exc:
            if "names starting with '_'" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: read ZoneInfo %s" % name
    return "contained"
