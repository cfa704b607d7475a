# escape: an object whose __len__ raises inside the runtime's size checks
# layer: normalize
# expect: invalid_return a value of type Bad cannot be stored
# moved: defining __len__ was refused at compile time; it is ordinary Python now, and the runtime never calls it
class Bad:
    def __len__(self):
        raise RuntimeError("len in trusted code")


def tool(conv):
    return Bad()
