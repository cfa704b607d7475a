# escape: exit() ends the child outside the runtime's verdicts
# layer: compile
# expect: compile_error 'exit' is not allowed
def tool(conv):
    exit(0)
