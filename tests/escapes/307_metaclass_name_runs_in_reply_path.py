# escape: a metaclass (built with the real type from typing.get_origin) gives an exception class a __name__ property; the runtime reads type(exc).__name__ for the error kind after the tool phase is over, so tool code runs while the reply is built (here it never ends)
# layer: guard
# expect: runtime_error
# LIVE today: the third read of __name__ happens in the reply path and loops until the deadline: timeout. Fix: refuse the real type (see 306), and read the kind with the C-level name descriptor (values.type_name) as everywhere else in the reply path
import typing

reads = []


def name_of(cls):
    reads.append(1)
    if len(reads) >= 3:  # the first two are the tool phase's (traceback and message)
        while True:
            pass
    return "BookingFailed"


real_type = typing.get_origin(typing.Type[int])
Meta = real_type("Meta", (real_type,), {"__name__": property(name_of)})
BookingFailed = Meta("BookingFailed", (Exception,), {})


def tool(conv):
    raise BookingFailed("no table free")
