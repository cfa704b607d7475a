# escape: bind a guard name with the binders RestrictedPython might forget: for, with, except, import-as, walrus, comprehension
# layer: compile
# expect: compile_error name '_getattr_' is not allowed
import json as _getattr_


def tool(conv):
    for _getitem_ in [1]:
        pass
    if (_write_ := None) is None:
        pass
    return str([_getiter_ for _getiter_ in (1,)])
