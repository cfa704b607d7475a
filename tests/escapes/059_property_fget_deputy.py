# escape: a runtime property's fget reads a private attribute of whatever it is given: use it as a confused deputy to pull private state
# layer: guard
# expect: contained
class Fake:
    pass


def tool(conv):
    # Conversation.utils.fget(x) returns x._utils for ANY x. The deputy itself is allowed;
    # what matters is that nothing private of the runtime comes out of it beyond what the
    # tool already has (conv.utils), and that it cannot be pointed at a foreign object.
    getter = Conversation.utils.fget
    if getter(conv) is not conv.utils:
        return "escaped: the deputy returned something else"
    try:
        getter(Fake())
    except AttributeError:
        return "contained"
    return "escaped: the deputy read a private attribute of a tool object"
