# escape: zero-argument super() in a subclass of a runtime class, to call its private methods on tool objects
# layer: compile
# expect: compile_error 'super' is not allowed
class MyConv(Conversation):
    def sneak(self):
        return super().sneak()


def tool(conv):
    return "escaped"
