# escape: locals() to reach the frame namespace (and the guards in it)
# layer: compile
# expect: compile_error 'locals' is not available to tools
def tool(conv):
    return str(locals())
