# escape: the shared metadata a library __init__ stored in a tool subclass's instance, read through vars(), __dict__, a copy made by functools.update_wrapper, or a match class pattern whose __match_args__ names it
# layer: guard
# expect: contained
# The sequels of 424: every other spelling of that private read must refuse too (a match class
# pattern reads __match_args__ natively, around the guard, from any instance of a subclass).
import functools

import phonenumbers


class Spy:
    pass


class Formatter(phonenumbers.AsYouTypeFormatter):
    pass


class Peek:
    __match_args__ = ("_current_metadata",)


def tool(conv):
    refused = []
    for name, attempt in (("vars", lambda: vars(Formatter("GB"))["_current_metadata"]),
                          ("__dict__", lambda: Formatter("GB").__dict__["_current_metadata"]),
                          ("getattr", lambda: getattr(Formatter("GB"), "_current_metadata")),
                          ("update_wrapper", lambda: vars(functools.update_wrapper(Spy(), Formatter("GB")))["_current_metadata"])):
        try:
            attempt()
        except (AttributeError, TypeError, KeyError) as exc:
            if name == "update_wrapper" and type(exc) is KeyError:
                continue  # only the labels were copied
            if "tool" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            refused.append(name)
            continue
        return "escaped: %s read the shared metadata" % name
    try:
        class Both(Peek, phonenumbers.AsYouTypeFormatter):
            pass
    except TypeError as exc:
        if "__match_args__" not in str(exc):
            return "the match subclass was refused for another reason: %s" % exc
    else:
        match Both("GB"):
            case Peek(metadata):
                return "escaped: a match pattern read %r" % (type(metadata).__name__,)
    return "contained"
