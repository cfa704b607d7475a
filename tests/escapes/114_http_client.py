# escape: http.client to an internal service
# layer: compile
# expect: compile_error import of 'http.client' is not allowed
import http.client


def tool(conv):
    c = http.client.HTTPConnection("localhost", 8080, timeout=1)
    c.request("GET", "/")
    return c.getresponse().read().decode()
