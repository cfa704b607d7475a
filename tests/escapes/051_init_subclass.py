# escape: __init_subclass__ runs tool code whenever anything subclasses the tool's class
# layer: compile
# expect: compile_error defining '__init_subclass__' is not allowed
class Base:
    def __init_subclass__(cls, **kwargs):
        cls.hooked = True


def tool(conv):
    return "escaped"
