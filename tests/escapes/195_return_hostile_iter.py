# escape: a list subclass whose __iter__ yields different items each time it is walked
# layer: normalize
# expect: contained
# moved: defining __iter__ was refused at compile time; it is ordinary Python now, and the runtime reads a list subclass through list's own iterator (had it called this one, the loop would end the call in a timeout)
class Shifty(list):
    def __iter__(self):
        while True:
            pass


def tool(conv):
    return {"content": "contained", "listen": {"asr": {"keywords": Shifty(["yes"])}}}
