# escape: an object whose __str__ runs tool code when the runtime turns it into text
# layer: normalize
# expect: invalid_return a value of type Hostile cannot be stored
# moved: defining __str__ was refused at compile time; it is ordinary Python now, and the runtime never calls it on a returned value (had it, the loop would end the call in a timeout)
class Hostile:
    def __str__(self):
        while True:
            pass


def tool(conv):
    return Hostile()
