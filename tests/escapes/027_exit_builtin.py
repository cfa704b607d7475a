# escape: exit() ends the child outside the runtime's verdicts
# layer: compile
# expect: compile_error 'exit' is not available to tools
def tool(conv):
    exit(0)
