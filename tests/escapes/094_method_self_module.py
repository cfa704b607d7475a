# escape: a builtin function's __self__ is its module (len.__self__ is builtins; time.time.__self__ is time)
# layer: compile
# expect: compile_error attribute '__self__' is not available to tools
def tool(conv):
    return str(len.__self__.open)
