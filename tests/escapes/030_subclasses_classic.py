# escape: the classic ().__class__.__bases__[0].__subclasses__() walk to a class whose __init__.__globals__ holds os
# layer: compile
# expect: compile_error attribute '__class__' is not allowed
def tool(conv):
    for cls in ().__class__.__bases__[0].__subclasses__():
        if cls.__name__ == "_wrap_close":
            return cls.__init__.__globals__["popen"]("id").read()
    return "no luck"
