# escape: a __del__ finalizer that runs tool code whenever the object is collected, e.g. after the reply
# layer: compile
# expect: compile_error defining '__del__' is not allowed
class Ghost:
    def __del__(self):
        while True:
            pass


keep = []


def tool(conv):
    keep.append(Ghost())
    return "planted"
