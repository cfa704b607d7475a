# escape: functools.cached_property's __set_name__ (spelled at run time) binds it onto a runtime class under a name of the tool's choosing
# layer: guard
# expect: runtime_error attribute '__set_name__' is not available to tools
import functools


def tool(conv):
    cached = functools.cached_property(lambda self: "forged")
    getattr(cached, "__set" + "_name__")(type(conv), "state")
    return "escaped"
