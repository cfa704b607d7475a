# escape: "{0.__class__.__mro__}".format(x): str.format walks attributes outside the getattr guard
# layer: compile
# expect: compile_error attribute 'format' is not allowed
def tool(conv):
    return "{0.__class__.__mro__[1].__subclasses__}".format(conv)
