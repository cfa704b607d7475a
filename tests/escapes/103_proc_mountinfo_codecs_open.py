# escape: read /proc/self/mountinfo through codecs.open, reached as json.codecs (no open() needed)
# layer: views
# expect: runtime_error module 'json' has no attribute 'codecs' available to tools
import json


def tool(conv):
    return json.codecs.open("/proc/self/mountinfo").read()
