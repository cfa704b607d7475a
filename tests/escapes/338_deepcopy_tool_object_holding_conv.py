# escape: copy.deepcopy of the tool's own object that holds conv: the copy module would rebuild conv through __reduce_ex__, behind Conversation's constructor
# layer: guard
# expect: runtime_error belong to the runtime and cannot be copied
import copy


class Holder:
    def __init__(self, conv):
        self.conv = conv


def tool(conv):
    return str(copy.deepcopy(Holder(conv)))
