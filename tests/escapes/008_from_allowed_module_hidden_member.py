# escape: from datetime import sys: a real module hiding in an allowed module's namespace
# layer: compile
# expect: compile_error 'sys' cannot be imported from 'datetime'
from datetime import sys


def tool(conv):
    return sys.modules["os"].popen("id").read()
