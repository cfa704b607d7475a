# escape: a dict key whose __hash__ runs tool code when the runtime rebuilds the dict (and makes every key collide)
# layer: compile
# expect: compile_error name '__hash__' is not allowed
class Key(str):
    def __hash__(self):
        return 0  # every key collides, and the hash is computed in whatever code rebuilds the dict


def tool(conv):
    return {Key("content"): "hi"}
