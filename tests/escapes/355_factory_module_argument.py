# escape: class factories take module=: name a runtime module so that code looking the class's module up in sys.modules (pickling, dataclasses' string annotations) reaches the runtime's namespace
# layer: guard
# expect: contained
import collections
import dataclasses


def tool(conv):
    refused = []
    try:
        collections.namedtuple("Row", "a", module="sandbox.child.entry")
    except TypeError as error:
        refused.append("module=" in str(error))
    try:
        dataclasses.make_dataclass("Row", ["a"], module="sandbox.child.entry")
    except TypeError as error:
        refused.append("module=" in str(error))
    if refused == [True, True]:
        return "contained"
    return f"escaped: {refused}"
