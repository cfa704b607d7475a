# escape: zoneinfo.ZoneInfo is a stand-in subclass that refuses from_file/no_cache/clear_cache; super(ZoneInfo, ZoneInfo).from_file reaches the standard library's own classmethod behind the override and parses bytes the tool wrote
# layer: guard
# expect: contained
# LIVE today: a forged zone is built by the real from_file. Fix: refuse attribute reads through a super() proxy whose starting class is not the tool's own (super is for the tool's own class hierarchies); that also closes 305
import io
from zoneinfo import ZoneInfo

TZIF = (b"TZif" + b"\x00" * 16 + (0).to_bytes(4, "big") * 4 + (1).to_bytes(4, "big")
        + (4).to_bytes(4, "big") + b"\x00\x00\x0e\x10\x00\x00" + b"ABC\x00")


def tool(conv):
    try:
        real_from_file = super(ZoneInfo, ZoneInfo).from_file
        zone = real_from_file(io.BytesIO(TZIF), key="Forged/Zone")
    except (TypeError, AttributeError) as error:
        if "not available to tools" in str(error):
            return "contained"
        return f"refused for another reason: {error}"
    return f"escaped: the standard from_file behind the stand-in built {zone!r}"
