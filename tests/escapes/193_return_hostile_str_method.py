# escape: an object whose __str__ runs tool code when the runtime turns it into text
# layer: compile
# expect: compile_error name '__str__' is not allowed
class Hostile:
    def __str__(self):
        while True:
            pass


def tool(conv):
    return Hostile()
