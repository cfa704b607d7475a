# escape: getattr with a str subclass whose __eq__/__hash__ lie, hoping the guard compares the name through them and the lookup uses another spelling
# layer: guard
# expect: runtime_error not on 'Utils' objects
class Liar(str):
    def __eq__(self, other):
        return other == "get_secret"

    def __hash__(self):
        return hash("get_secret")

    def startswith(self, prefix):
        return False


def tool(conv):
    return str(getattr(conv.utils, Liar("_secrets")))
