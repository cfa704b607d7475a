# escape: a class statement with a metaclass, whose __new__ sees and rewrites every class body
# layer: compile
# expect: compile_error The keyword argument "metaclass" is not allowed
class Meta(object):
    pass


class Evil(metaclass=Meta):
    pass


def tool(conv):
    return "escaped"
