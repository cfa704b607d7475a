# escape: a runtime property's fget reads a private attribute of whatever object it is given: use Conversation.utils.fget as a confused deputy
# layer: compile
# expect: compile_error attribute 'fget' is not allowed
def tool(conv):
    getter = Conversation.utils.fget
    return repr(getter(conv))
