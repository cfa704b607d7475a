# escape: getattr with a name built at run time, dodging the compile-time name checks
# layer: compile
# expect: compile_error 'getattr' is not allowed
def tool(conv):
    cls = getattr((), "__cl" + "ass__")
    return str(getattr(getattr(cls, "__ba" + "se__"), "__subcl" + "asses__")())
