# escape: input() reads the child's stdin, which could be the supervisor's channel
# layer: compile
# expect: compile_error 'input' is not allowed
def tool(conv):
    return input()
