# escape: tenant A's patterns stay in re's compile cache; tenant B times re.compile to learn which patterns A used
# layer: process
# expect: contained
# then: contained
# tenants: A B
import re
import time

SECRET_PATTERN = r"tenant-a-account-(\d{4})-(?P<pin>\d{6})-[A-Z]{3}x*y+"
FRESH_PATTERN = r"never-compiled-(\d{4})-(?P<pan>\d{6})-[A-Z]{3}z*w+"


def tool(conv):
    re.compile(SECRET_PATTERN)
    return "contained"


def cost(pattern):
    started = time.perf_counter()
    re.compile(pattern)
    return time.perf_counter() - started


def phase2(conv):
    guess = cost(SECRET_PATTERN)
    fresh = cost(FRESH_PATTERN)
    # A cache hit is about a hundred times cheaper than compiling a pattern like these.
    if guess * 10 < fresh:
        return "escaped: tenant A's pattern was already compiled"
    return "contained"
