# escape: help() runs pydoc, which imports modules and reads files
# layer: compile
# expect: compile_error 'help' is not available to tools
def tool(conv):
    help("os")
    return "escaped"
