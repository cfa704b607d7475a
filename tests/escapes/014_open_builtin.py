# escape: open() a host file
# layer: compile
# expect: compile_error 'open' is not allowed
def tool(conv):
    return open("/etc/passwd").read()
