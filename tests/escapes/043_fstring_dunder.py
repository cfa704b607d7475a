# escape: hide the dunder walk inside an f-string expression
# layer: compile
# expect: compile_error attribute '__globals__' is not available to tools
# moved: the first refusal was '__class__', which is now readable (it is type(x)); the door itself, '__globals__', is refused in the f-string as anywhere else
def tool(conv):
    return f"{conv.__class__.__init__.__globals__!r}"
