# escape: reach string.Formatter through the module view (no from-import for the compiler to see)
# layer: views
# expect: runtime_error module 'string' has no attribute 'Formatter' available to tools
import string


def tool(conv):
    return str(string.Formatter().get_field("0.__class__", [conv], {}))
