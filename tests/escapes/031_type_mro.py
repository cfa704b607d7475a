# escape: str.mro() reaches object without any underscore, the start of the subclasses walk
# layer: compile
# expect: compile_error attribute 'mro' is not available to tools
def tool(conv):
    base = str.mro()[-1]
    return str(base)
