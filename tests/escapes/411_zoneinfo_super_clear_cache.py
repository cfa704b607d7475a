# escape: super(ZoneInfo, ZoneInfo).clear_cache() runs zoneinfo's cache reset on the shared class past the refusing override
# layer: guard
# expect: runtime_error super(ZoneInfo, ...) is not available to tools
# moved: was 'clear_cache is not available to tools' from the stand-in's override; the attribute guard now
# refuses super() bound to a class the tool did not define before any member is looked up, so no
# super() proxy reaches past a stand-in to the standard classmethods it overrides
# LIVE today: the override is skipped by super(). The stand-in serves zones from its own
# table, so the effect is small, but the refusal the view promises does not hold.
from zoneinfo import ZoneInfo


def tool(conv):
    super(ZoneInfo, ZoneInfo).clear_cache()
    return "escaped: cleared the shared zone cache"
