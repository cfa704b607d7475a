# escape: a descriptor whose __get__ receives the runtime instance and its owner class
# layer: compile
# expect: compile_error name '__get__' is not allowed
class Leak:
    def __get__(self, instance, owner):
        return owner


class Holder:
    leak = Leak()


def tool(conv):
    return str(Holder().leak)
