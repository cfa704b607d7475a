# escape: sleep far past the deadline (no CPU used, so no CPU limit helps)
# layer: deadline
# expect: timeout
import time


def tool(conv):
    time.sleep(60)
    return "woke up"
