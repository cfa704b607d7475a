# escape: read /proc/1/environ or /proc/self/environ for secrets inherited through the environment
# layer: compile
# expect: compile_error 'open' is not available to tools
def tool(conv):
    for path in ("/proc/1/environ", "/proc/self/environ"):
        try:
            with open(path, "rb") as f:
                return f.read().decode()
        except OSError:
            continue
    return "nothing readable"
