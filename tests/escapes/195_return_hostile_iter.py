# escape: a list subclass whose __iter__ yields different items each time it is walked
# layer: compile
# expect: compile_error name '__iter__' is not allowed
class Shifty(list):
    def __iter__(self):
        yield "first walk"


def tool(conv):
    return Shifty(["checked"])
