# escape: datetime.datetime_CAPI, a capsule holding C function pointers of the interpreter
# layer: views
# expect: runtime_error module 'datetime' has no attribute 'datetime_CAPI' available to tools
import datetime


def tool(conv):
    return str(datetime.datetime_CAPI)
