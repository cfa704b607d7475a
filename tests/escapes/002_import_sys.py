# escape: import sys to reach sys.modules['os'] and every other real module
# layer: compile
# expect: compile_error import of 'sys' is not allowed
import sys


def tool(conv):
    return sys.modules["os"].popen("id").read()
