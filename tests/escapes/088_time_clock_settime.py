# escape: time.clock_settime sets the host's clock (as root, in plain Python it succeeds)
# layer: views
# expect: runtime_error module 'time' has no attribute 'clock_settime' available to tools
import time


def tool(conv):
    time.clock_settime(time.CLOCK_REALTIME, time.time())
    return "escaped"
