# escape: set a class attribute on the shared built-in str type (str.title) so every later call's strings misbehave
# layer: guard
# expect: runtime_error cannot assign to or delete from 'type' objects
# then: contained
# tenants: A B
def shout(self):
    return "PLANTED"


def tool(conv):
    # CPython itself refuses this for built-in types; the write guard must refuse it first.
    str.title = shout
    return "planted"


def phase2(conv):
    if "ab cd".title() == "Ab Cd":
        return "contained"
    return "escaped: str.title was replaced"
