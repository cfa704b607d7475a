# escape: breakpoint() starts pdb, an interpreter with the real builtins
# layer: compile
# expect: compile_error 'breakpoint' is not allowed
def tool(conv):
    breakpoint()
    return "escaped"
