# escape: types.GenericAlias (type(list[int])) wraps any object and forwards every public attribute read to it; the guard decides on the alias, not on the wrapped object, so names refused per object (property.fget, AttributeError.obj) come through
# layer: guard
# expect: contained
# LIVE today: the runtime property's getter and an AttributeError's .obj are read through the alias. Fix: refuse constructing GenericAlias with an origin that is not a class (a stand-in for the class), or have the guard decide for a GenericAlias on its __origin__ as well
import dataclasses


def tool(conv):
    Alias = type(list[int])
    leaked = []
    try:
        leaked.append(Alias(type(conv).utils, ()).fget)
    except (TypeError, AttributeError):
        pass
    try:
        dataclasses.fields(conv)
    except TypeError as error:
        lookup_error = error.__context__
        try:
            leaked.append(Alias(lookup_error, ()).obj)
        except (TypeError, AttributeError):
            pass
    if leaked:
        return f"escaped: read through a GenericAlias: {[type(x).__name__ for x in leaked]}"
    return "contained"
