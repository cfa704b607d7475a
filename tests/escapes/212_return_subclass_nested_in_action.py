# escape: hide a str subclass deep inside an otherwise valid action
# layer: normalize
# expect: invalid_return a str subclass (Liar) cannot be stored
class Liar(str):
    def __eq__(self, other):
        return True


def tool(conv):
    return {"content": "ok", "listen": {"asr": {"keywords": ["yes", Liar("no")]}}}
