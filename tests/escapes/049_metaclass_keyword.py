# escape: a class statement with a metaclass, whose hooks see and rewrite every class body
# layer: compile
# expect: compile_error The keyword argument "metaclass" is not allowed
class Meta(type):
    pass


class Evil(metaclass=Meta):
    pass


def tool(conv):
    return "escaped"
