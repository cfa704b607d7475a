# escape: the same memo leak without passing a memo: a tool object's __deepcopy__(memo) receives deepcopy's memo after a runtime object earlier in the same list was rebuilt, with that object's private slots in it
# layer: guard
# expect: contained
# LIVE today: the spy finds the raw object.__setattr__ in the memo. Fix: copy/deepcopy (and dataclasses.asdict/astuple, which use the real deepcopy) refuse runtime objects at the copy module's dispatch, for every runtime class
import copy

seen = []


class Spy:
    def __deepcopy__(self, memo):
        seen.append(memo)
        return self


def tool(conv):
    try:
        copy.deepcopy([object.__setattr__, Spy()])
    except (TypeError, AttributeError) as error:
        if "cannot be copied" in str(error):
            return "contained"
        return f"refused for another reason: {error}"
    for memo in seen:
        for value in memo.values():
            if type(value) is dict and "_method" in value:
                return f"escaped: the memo held the tool-only wrapper's private slots {sorted(value)}"
    return "contained"
