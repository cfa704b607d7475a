# escape: object.__getattribute__(conv.utils, '_secrets') skips the getattr guard
# layer: compile
# expect: compile_error attribute '__getattribute__' is not available to tools
def tool(conv):
    return str(object.__getattribute__(conv.utils, "_secrets"))
