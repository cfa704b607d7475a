# escape: a dict key whose __hash__ runs tool code (or raises) when the runtime rebuilds the dict
# layer: compile
# expect: compile_error name '__hash__' is not allowed
class Key(str):
    def __hash__(self):
        raise RuntimeError("hashed in trusted code")


def tool(conv):
    return {Key("content"): "hi"}
