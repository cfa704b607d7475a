# escape: the classic ().__class__.__bases__[0].__subclasses__() walk to a class whose __init__.__globals__ holds os
# layer: compile
# expect: compile_error attribute '__subclasses__' is not available to tools
# moved: the first refusal was '__class__', which is readable now (it is type(x)); the walk's doors, __base__ and __subclasses__, stay refused
def tool(conv):
    for cls in ().__class__.__bases__[0].__subclasses__():
        if cls.__name__ == "_wrap_close":
            return cls.__init__.__globals__["popen"]("id").read()
    return "no luck"
