# escape: vars(conv.utils) for the secrets table behind the object
# layer: guard
# expect: runtime_error vars() argument must be one of the tool's own objects
def tool(conv):
    return str(vars(conv.utils))
