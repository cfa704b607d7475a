# escape: hide the dunder walk inside an f-string expression
# layer: compile
# expect: compile_error attribute '__class__' is not allowed
def tool(conv):
    return f"{conv.__class__.__init__.__globals__!r}"
