# escape: a functools.lru_cache on a tool function keeps tenant A's arguments and results for tenant B
# layer: process
# expect: contained
# then: contained
# tenants: A B
import functools


@functools.lru_cache(maxsize=None)
def lookup(key):
    return key.upper()


def tool(conv):
    lookup("tenant-a-customer-42")
    return "contained"


def phase2(conv):
    if lookup.cache_info().currsize == 0:
        return "contained"
    return "escaped: the cache holds " + str(lookup.cache_info().currsize) + " entries"
