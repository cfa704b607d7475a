# escape: move the tool-class mark onto a runtime class: the token comes from a class namespace copied by update_wrapper, the real type from typing.get_origin builds a marked metaclass, and super(K, K).__setattr__ is the raw type.__setattr__; Utils marked as a tool class makes conv.utils._secrets readable
# layer: guard
# expect: contained
# LIVE today: conv.utils becomes a 'tool instance' and its secrets are read. Fix: each link (see 305, 306, 308); and is_tool_class could also require the class to be in a registry held by toolobjects (by identity) rather than trust a mark in the class's own namespace
import functools
import typing


class Donor:
    pass


class Holder:
    pass


def tool(conv):
    try:
        holder = Holder()
        functools.update_wrapper(holder, Donor)
        token = vars(holder)["$tool class"]
        real_type = typing.get_origin(typing.Type[int])
        Marked = real_type("Marked", (real_type,), {"$tool class": token})
        type_setattr = super(Marked, Marked).__setattr__
        type_setattr(type(conv.utils), "$tool class", token)
        secrets = conv.utils._secrets
    except (TypeError, AttributeError, KeyError):
        return "contained"
    return f"escaped: marked Utils as a tool class and read conv.utils._secrets ({type(secrets).__name__})"
