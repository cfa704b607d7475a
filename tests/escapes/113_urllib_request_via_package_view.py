# escape: import urllib.parse binds the urllib package: read its request attribute at run time
# layer: views
# expect: runtime_error module 'urllib' has no attribute 'request' available to tools
import urllib.parse


def tool(conv):
    return urllib.request.urlopen("http://169.254.169.254/").read().decode()
