# escape: deepcopy a tool container or a LoggerAdapter holding a runtime object, so copy reduces the runtime object on the way
# layer: views
# expect: contained
import copy
import logging


class Holder:
    def __init__(self, inner):
        self.inner = inner


def tool(conv):
    adapter = logging.LoggerAdapter(logging.getLogger("nested"), {"k": 1})
    for name, target in (("adapter", adapter), ("holder", Holder(conv)), ("list", [1, {"log": log}])):
        try:
            copy.deepcopy(target)
        except TypeError as exc:
            if "belong to the runtime" not in str(exc):
                return "deepcopy(%s) refused for another reason: %s" % (name, exc)
            continue
        return "escaped: deepcopy(%s) copied a runtime object inside" % name
    return "contained"
