# escape: read /proc/1/environ (another process' environment) with an 'open' the compiler let through because the file binds the name
# layer: guard
# expect: contained
def tool(conv):
    try:
        data = open("/proc/1/environ", "rb").read()
    except NameError:
        return "contained"
    return "escaped: " + str(len(data))


def elsewhere(open=None):
    return open
