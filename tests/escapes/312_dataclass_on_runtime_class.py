# escape: dataclasses.dataclass applied to a runtime class (conv.state's State): it sets __eq__, __hash__ = None, __match_args__ and __dataclass_fields__ on a class that is read-only to tools
# layer: guard
# expect: contained
# LIVE today: State becomes unhashable and gains a dataclass __eq__. Fix: the dataclass wrapper accepts only the tool's own classes, like total_ordering
import dataclasses


def tool(conv):
    state_class = type(conv.state)
    hash(conv.state)
    try:
        dataclasses.dataclass(state_class)
    except (TypeError, AttributeError) as error:
        if "tool's own" in str(error):
            return "contained"
        return f"refused for another reason: {error}"
    try:
        hash(conv.state)
    except TypeError:
        return "escaped: dataclass() rewrote the runtime's State class (now unhashable)"
    return "escaped: dataclass() accepted the runtime's State class"
