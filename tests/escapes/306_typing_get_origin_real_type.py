# escape: typing.get_origin(typing.Type[int]) returns the real builtin type (the tool's `type` is a guarded stand-in); three-argument type() then builds classes around the class guard, with __del__, __getattribute__ and a metaclass
# layer: guard
# expect: contained
# LIVE today: the class is built with __del__ and __getattribute__. Fix: typing.get_origin/get_args stand-ins that hand out the tool's type (and MetaclassHandles) in place of metaclasses
import typing


def tool(conv):
    try:
        real_type = typing.get_origin(typing.Type[int])
        Hooked = real_type("Hooked", (), {
            "__del__": lambda self: None,
            "__getattribute__": lambda self, name: "hooked",
        })
        answer = Hooked().anything
    except (TypeError, AttributeError) as error:
        if "type" in str(error) or "metaclass" in str(error):
            return "contained"
        return f"refused for another reason: {error}"
    return f"escaped: built {Hooked.__name__} around the class guard (__getattribute__ answered {answer!r})"
