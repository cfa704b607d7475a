# escape: bind a guard name with the binders RestrictedPython might forget: for, with, except, import-as, walrus, comprehension
# layer: compile+guard
# expect: contained
# moved: guard names could not be bound at all; the guards are now called by names no tool can spell ($getattr...), so a tool's own _getattr_/_write_/_getiter_ is just its variable, and the real guards still run
import json as _getattr_


def tool(conv):
    for _getitem_ in [1]:
        pass
    if (_write_ := None) is None:
        pass
    try:
        raise ValueError("x")
    except ValueError as _apply_:
        pass
    match conv:
        case _unpack_sequence_:
            pass
    _inplacevar_ = [_getiter_ for _getiter_ in (1,)]
    try:
        conv.state._data
    except AttributeError as error:
        return "contained" if "readable only on the tool's own" in str(error) else f"refused for another reason: {error}"
    return "escaped: a guard name bound by the tool replaced the guard"
