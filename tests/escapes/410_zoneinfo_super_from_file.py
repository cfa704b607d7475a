# escape: super(ZoneInfo, ZoneInfo).from_file(stream) parses TZif bytes the tool made into a zone past the refusing override
# layer: guard
# expect: runtime_error super(ZoneInfo, ...) is not available to tools
# moved: was 'from_file is not available to tools' from the stand-in's override; the attribute guard now
# refuses super() bound to a class the tool did not define before any member is looked up, so no
# super() proxy reaches past a stand-in to the standard classmethods it overrides
# LIVE today: the override is skipped by super(); zoneinfo's C parser reads the tool's bytes.
import io
from datetime import datetime
from zoneinfo import ZoneInfo


def tzif():
    counts = (0, 0, 0, 0, 1, 4)  # isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    data = b"TZif" + bytes(16) + b"".join(n.to_bytes(4, "big") for n in counts)
    return data + (5 * 3600).to_bytes(4, "big") + b"\x00\x00" + b"EVL\x00"


def tool(conv):
    zone = super(ZoneInfo, ZoneInfo).from_file(io.BytesIO(tzif()), key="Europe/London")
    offset = datetime(2024, 1, 1, tzinfo=zone).utcoffset()
    return "escaped: built %r from the tool's bytes (offset %s)" % (zone, offset)
