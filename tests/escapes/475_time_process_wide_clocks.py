# escape: time members that change or reveal process-wide state (tzset, clock_settime, get_clock_info, pthread_getcpuclockid, thread_time)
# layer: views
# expect: contained
import time


def tool(conv):
    for name in ("tzset", "clock_settime", "clock_settime_ns", "get_clock_info", "pthread_getcpuclockid",
                 "thread_time", "clock_gettime"):
        try:
            getattr(time, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "time.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: time.%s is reachable" % name
    return "contained" if time.strptime("2024", "%Y").tm_year == 2024 else "strptime broke"
