# escape: datetime.sys is the real sys module in Python 3.11, with no underscore on the way
# layer: views
# expect: runtime_error module 'datetime' has no attribute 'sys' available to tools
import datetime


def tool(conv):
    return datetime.sys.modules["os"].popen("id").read()
