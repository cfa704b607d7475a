# escape: input() reads the child's stdin, which could be the supervisor's channel
# layer: compile
# expect: compile_error 'input' is not available to tools
def tool(conv):
    return input()
