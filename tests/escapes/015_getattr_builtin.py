# escape: getattr with a name built at run time, dodging the compile-time name checks
# layer: guard
# expect: runtime_error attribute '__base__' is not available to tools
# moved: was refused at compile time ('getattr' was not a builtin); getattr is now the guarded one, deciding through the same guard as a.b, which refuses the class-graph walk at run time
def tool(conv):
    cls = getattr((), "__cl" + "ass__")
    return str(getattr(getattr(cls, "__ba" + "se__"), "__subcl" + "asses__")())
