# escape: super(ZoneInfo, ZoneInfo).clear_cache() runs zoneinfo's cache reset on the shared class past the refusing override
# layer: views
# expect: runtime_error clear_cache is not available to tools
# LIVE today: the override is skipped by super(). The stand-in serves zones from its own
# table, so the effect is small, but the refusal the view promises does not hold.
from zoneinfo import ZoneInfo


def tool(conv):
    super(ZoneInfo, ZoneInfo).clear_cache()
    return "escaped: cleared the shared zone cache"
