# escape: super() proxies to call object.__setattr__ on a read-only runtime object
# layer: compile
# expect: compile_error 'super' is not allowed
def tool(conv):
    proxy = super(object, conv.utils)
    return str(proxy)
