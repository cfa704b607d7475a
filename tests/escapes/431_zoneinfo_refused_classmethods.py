# escape: ZoneInfo.from_file / no_cache / clear_cache called directly on the tools' ZoneInfo
# layer: views
# expect: contained
# The stand-in's overrides refuse each with a TypeError naming the door (see 409-411 for super()).
import io
from zoneinfo import ZoneInfo

DOORS = (
    ("from_file", lambda: ZoneInfo.from_file(io.BytesIO(b"TZif"), key="X")),
    ("no_cache", lambda: ZoneInfo.no_cache("Europe/London")),
    ("clear_cache", lambda: ZoneInfo.clear_cache()),
)


def tool(conv):
    for name, door in DOORS:
        try:
            door()
        except TypeError as exc:
            if name + " is not available to tools" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: ZoneInfo.%s ran" % name
    return "contained"
