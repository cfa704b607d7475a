# escape: a class whose base is super: its instances are proxies that look attributes up on another object, with methods the tool defines
# layer: guard
# expect: runtime_error cannot subclass 'super'
class Proxy(super):
    def peek(self):
        return self._utils


def tool(conv):
    return "escaped"
