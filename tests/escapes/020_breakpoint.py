# escape: breakpoint() starts pdb, an interpreter with the real builtins
# layer: compile
# expect: compile_error 'breakpoint' is not available to tools
def tool(conv):
    breakpoint()
    return "escaped"
