# escape: read /proc/self/environ for the server's secrets inherited through the environment
# layer: compile
# expect: compile_error 'open' is not allowed
def tool(conv):
    with open("/proc/self/environ", "rb") as f:
        return f.read().decode()
