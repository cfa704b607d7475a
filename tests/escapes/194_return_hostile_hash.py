# escape: a dict key whose __hash__ runs tool code when the runtime rebuilds the dict (and makes every key collide)
# layer: normalize
# expect: contained
# moved: defining __hash__ was refused at compile time; it is ordinary Python now: the key is read as its plain characters and never hashed or compared by the runtime
class Key(str):
    def __hash__(self):
        return 0  # every key collides

    def __eq__(self, other):
        return False


def tool(conv):
    return {Key("content"): "contained"}
