# escape: dataclasses.fields/replace/asdict on runtime objects (conv, a logger), and make_dataclass with a refused member or a runtime base
# layer: views
# expect: contained
import dataclasses
import logging


def finalizer(self):
    pass


def tool(conv):
    for name, attempt in (("fields(conv)", lambda: dataclasses.fields(conv)),
                          ("replace(conv)", lambda: dataclasses.replace(conv)),
                          ("asdict(logger)", lambda: dataclasses.asdict(logging.getLogger("x")))):
        try:
            attempt()
        except TypeError as exc:
            if "dataclass" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: %s worked" % name
    try:
        dataclasses.make_dataclass("Hook", ["a"], namespace={"__del__": finalizer})
    except TypeError as exc:
        if "is not allowed" not in str(exc):
            return "make_dataclass namespace refused for another reason: %s" % exc
    else:
        return "escaped: make_dataclass defined __del__"
    try:
        dataclasses.make_dataclass("Meta", ["a"], bases=(type,))
    except TypeError as exc:
        if "cannot subclass" not in str(exc) and "is not a class" not in str(exc):
            return "make_dataclass base refused for another reason: %s" % exc
    else:
        return "escaped: make_dataclass subclassed type"
    return "contained"
