# escape: eval() an unrestricted expression walking to object.__subclasses__()
# layer: compile
# expect: compile_error 'eval' is not available to tools
def tool(conv):
    return str(eval("().__class__.__base__.__subclasses__()"))
