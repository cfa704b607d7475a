# escape: the same /proc environ read with an 'open' the compiler let through because the file binds the name elsewhere
# layer: guard
# expect: contained
def tool(conv):
    for path in ("/proc/1/environ", "/proc/self/environ"):
        try:
            data = open(path, "rb").read()
        except NameError:
            return "contained"
        except OSError:
            continue
        return "escaped: " + str(len(data)) + " bytes of environment"
    return "nothing readable"


def elsewhere(open=None):
    return open
