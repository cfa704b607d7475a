# escape: time.tzset re-reads TZ from the environment and /etc/localtime: host files and process-wide state
# layer: views
# expect: runtime_error module 'time' has no attribute 'tzset' available to tools
import time


def tool(conv):
    time.tzset()
    return str(time.tzname)
