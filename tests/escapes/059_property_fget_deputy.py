# escape: a runtime property's fget reads a private attribute of whatever object it is given: use Conversation.utils.fget as a confused deputy
# layer: guard
# expect: runtime_error property.fget is not available to tools
# moved: every '.fget' was refused at compile time; it is an ordinary name elsewhere, so the guard refuses it on property objects
def tool(conv):
    getter = Conversation.utils.fget
    return repr(getter(conv))
