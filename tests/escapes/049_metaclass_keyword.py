# escape: a class statement with a metaclass, whose hooks see and rewrite every class body
# layer: guard
# expect: runtime_error cannot subclass 'type'
# moved: the metaclass keyword was refused at compile time; class keywords now reach the class guard, and a metaclass cannot be written: type is not subclassable by tools
class Meta(type):
    pass


class Evil(metaclass=Meta):
    pass


def tool(conv):
    return "escaped"
