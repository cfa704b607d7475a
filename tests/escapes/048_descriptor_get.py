# escape: a descriptor whose __get__ receives the runtime instance and its owner class
# layer: guard
# expect: runtime_error cannot assign to or delete from 'type' objects
# moved: defining __get__ in a tool class was refused at compile time; a tool's own descriptor is ordinary Python now, so the attack is to hang one on a runtime class, which stays read-only
class Leak:
    def __get__(self, instance, owner):
        return instance


def tool(conv):
    setattr(type(conv), "leak", Leak())
    return str(conv.leak)
