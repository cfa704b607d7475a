# escape: urllib.request.urlopen; urllib.parse is allowed, so try its sibling package module
# layer: compile
# expect: compile_error import of 'urllib.request' is not allowed
import urllib.request


def tool(conv):
    return urllib.request.urlopen("http://169.254.169.254/latest/meta-data/").read().decode()
