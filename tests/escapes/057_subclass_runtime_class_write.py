# escape: tool subclasses are marked writable: subclass Conversation and overwrite the real conv's effects through the parent's methods
# layer: guard
# expect: runtime_error cannot assign to or delete from 'Conversation' objects
class Mine(Conversation):
    pass


def tool(conv):
    # The subclass is writable, the runtime's instance is not: writing a property of the
    # real conv must go through the write guard and be refused.
    conv.state = Mine({}, function="tool", secrets={}).state
    return "escaped"
