# escape: object.__new__(Conversation) makes a runtime object behind its constructor (uninitialised private slots a tool could then fill)
# layer: guard
# expect: runtime_error __new__() of a class the tool did not define applies only to the tool's own objects
def tool(conv):
    return str(object.__new__(type(conv)))
