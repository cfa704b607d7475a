# escape: open() a host file
# layer: compile
# expect: compile_error 'open' is not available to tools
def tool(conv):
    return open("/etc/passwd").read()
