# escape: vars(obj) to read the __dict__ of runtime objects (e.g. conv.utils' secrets)
# layer: compile
# expect: compile_error 'vars' is not allowed
def tool(conv):
    return str(vars(conv.utils))
