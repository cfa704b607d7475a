# escape: super(Conversation, conv).__setattr__ is object.__setattr__: it writes the read-only conv's private slots (forge its recorded effects)
# layer: compile
# expect: compile_error 'super' is not allowed
def tool(conv):
    proxy = super(Conversation, conv)
    proxy.__setattr__("_recorded", {"variant": "forged"})
    return "escaped"
