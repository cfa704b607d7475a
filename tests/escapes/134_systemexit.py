# escape: raise SystemExit to end the child outside the runtime's verdicts
# layer: compile
# expect: compile_error 'SystemExit' is not available to tools
def tool(conv):
    raise SystemExit(0)
