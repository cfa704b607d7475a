# escape: return the conv object itself (its private slots hold the secrets table)
# layer: normalize
# expect: invalid_return a value of type Conversation cannot be stored
def tool(conv):
    return conv
