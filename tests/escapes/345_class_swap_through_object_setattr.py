# escape: object.__setattr__(obj, "__class__", Conversation) on the tool's own instance, to make a runtime-class object without its constructor (or the other way round)
# layer: guard
# expect: runtime_error setting '__class__' is not allowed in tools
class Mine:
    pass


def tool(conv):
    object.__setattr__(Mine(), "__class__", type(conv))
    return "escaped"
