# escape: monkeypatch the runtime's Conversation class (a global every call gets) so another tenant's set_variant is hijacked
# layer: guard
# expect: runtime_error cannot assign to or delete from 'type' objects
# then: contained
# tenants: A B
def hijacked(self, name):
    raise RuntimeError("hijacked by tenant A")


def tool(conv):
    Conversation.set_variant = hijacked
    return "planted"


def phase2(conv):
    try:
        conv.set_variant("main")
    except RuntimeError:
        return "escaped: set_variant is tenant A's function"
    return "contained"
