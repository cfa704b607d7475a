# escape: re.enum.sys / re.functools / re.copyreg: modules imported by re, reachable as attributes
# layer: views
# expect: runtime_error module 're' has no attribute 'enum' available to tools
import re


def tool(conv):
    return str(re.enum.sys.modules["os"].environ)
