# escape: an unbound super(Mine) is a descriptor: bind it to conv with __get__ to get a proxy whose bound object is the runtime's
# layer: guard
# expect: runtime_error __get__ of 'super' objects is not available to tools
class Mine:
    pass


def tool(conv):
    proxy = super(Mine).__get__(conv)
    return str(proxy._state)
