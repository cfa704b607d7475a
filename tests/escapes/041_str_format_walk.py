# escape: "{0.__class__.__mro__}".format(x): str.format walks attributes outside the getattr guard
# layer: guard
# expect: runtime_error attribute '__mro__' is not available to tools
# moved: was refused at compile time (every '.format' was); str.format is now the guarded formatter, whose every field step goes through the attribute guard
def tool(conv):
    return "{0.__class__.__mro__[1].__subclasses__}".format(conv)
