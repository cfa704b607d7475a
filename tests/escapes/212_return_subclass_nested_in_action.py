# escape: hide a str subclass deep inside an otherwise valid action
# layer: normalize
# expect: contained
# moved: a subclass of a plain type was refused; it is now stored as its plain value, as json.dumps stores a StrEnum member, read through the base type's C methods, so the lying methods never run in the runtime
class Liar(str):
    def __eq__(self, other):
        return True

    def __str__(self):
        return "escaped"


def tool(conv):
    return {"content": Liar("contained"), "listen": {"asr": {"keywords": ["yes", Liar("no")]}}}
