# escape: object is an allowed builtin: object.__subclasses__() lists every loaded class
# layer: compile
# expect: compile_error attribute '__subclasses__' is not available to tools
def tool(conv):
    return str(len(object.__subclasses__()))
