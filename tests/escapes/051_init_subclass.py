# escape: __init_subclass__ runs tool code whenever anything subclasses the tool's class
# layer: guard
# expect: contained
# moved: defining __init_subclass__ was refused at compile time; it is ordinary Python (a registry of subclasses) and runs only when the tool subclasses its own class: the runtime never subclasses a tool class, runtime classes keep their own hooks (module views refuse subclasses), and the hook cannot be read or called on the runtime's classes
import json

SEEN = []


class Base:
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        SEEN.append(cls.__name__)


class Mine(Base):
    pass


def tool(conv):
    refused = []
    try:
        class Sneaky(type(json)):  # a module view's class refuses subclasses itself
            pass
    except TypeError as error:
        refused.append("cannot be subclassed" in str(error))
    try:
        type(conv).__init_subclass__()
    except (TypeError, AttributeError) as error:
        refused.append("tool's own" in str(error))
    if SEEN == ["Mine"] and refused == [True, True]:
        return "contained"
    return f"escaped: {SEEN} {refused}"
