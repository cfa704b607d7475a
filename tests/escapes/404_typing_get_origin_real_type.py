# escape: typing.get_origin(typing.Type[int]) hands out the real `type`, whose three-argument form builds a class around the class guard (__del__, __getattribute__)
# layer: views
# expect: contained
# LIVE today: the tool's `type` is a guarded stand-in and the attribute guard screens
# metaclasses, but get_origin returns typing's __origin__, the real metaclass.
import typing


def tool(conv):
    real = typing.get_origin(typing.Type[int])
    try:
        Ghost = real("Ghost", (object,), {"__del__": lambda self: None,
                                         "__getattribute__": lambda self, name: "hooked"})
    except Exception as exc:
        return "contained" if "tool" in str(exc) else "failed for another reason: %s" % exc
    ghost = Ghost()
    return "escaped: built %r around the class guard; ghost.anything = %r" % (Ghost, ghost.anything)
