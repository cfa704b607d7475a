# escape: a tool class defining __instancecheck__/__subclasscheck__ so isinstance() answers what it wants where the runtime tests types
# layer: compile
# expect: compile_error defining '__instancecheck__' is not allowed
class Anything:
    def __instancecheck__(self, obj):
        return True


def tool(conv):
    return "escaped"
