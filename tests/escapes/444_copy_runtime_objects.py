# escape: copy.copy/deepcopy of the runtime's objects (conv, log, a module view, a logger, conv.state, type) to rebuild them through __reduce_ex__ behind their constructors
# layer: views
# expect: contained
import copy
import json
import logging


def tool(conv):
    targets = (("conv", conv), ("log", log), ("json view", json), ("logger", logging.getLogger("x")),
               ("state", conv.state), ("type", type))
    for name, target in targets:
        for spelling, copier in (("copy", copy.copy), ("deepcopy", copy.deepcopy)):
            try:
                copier(target)
            except TypeError as exc:
                if "cannot be copied" not in str(exc):
                    return "%s(%s) refused for another reason: %s" % (spelling, name, exc)
                continue
            return "escaped: %s(%s) made a copy" % (spelling, name)
    return "contained"
