# escape: an object whose __len__ raises inside the runtime's size checks
# layer: compile
# expect: compile_error name '__len__' is not allowed
class Bad:
    def __len__(self):
        raise RuntimeError("len in trusted code")


def tool(conv):
    return Bad()
