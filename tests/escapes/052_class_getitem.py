# escape: __class_getitem__ runs tool code on Base[...] with the class object
# layer: compile
# expect: compile_error defining '__class_getitem__' is not allowed
class Base:
    def __class_getitem__(cls, item):
        return item


def tool(conv):
    return str(Base[conv])
