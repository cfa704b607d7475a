# escape: __reduce__ makes copy/pickle call an arbitrary callable with chosen arguments
# layer: compile
# expect: compile_error defining '__reduce__' is not allowed
class Payload:
    def __reduce__(self):
        return (print, ("pwned",))


def tool(conv):
    return str(Payload())
