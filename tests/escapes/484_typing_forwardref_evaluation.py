# escape: reach typing.ForwardRef through get_args(List["..."]) and evaluate it (ForwardRef._evaluate, __forward_code__), or call get_type_hints
# layer: guard
# expect: contained
import typing


def tool(conv):
    ref = typing.get_args(typing.List["().__class__.__base__.__subclasses__()"])[0]
    for name in ("_evaluate", "__forward_code__", "__forward_arg__", "_evaluate_forward_ref"):
        try:
            getattr(ref, name)
        except AttributeError as exc:
            if "not available to tools" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: read ForwardRef.%s" % name
    for name in ("get_type_hints", "ForwardRef", "_eval_type", "reveal_type"):
        try:
            getattr(typing, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "typing.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: typing.%s is reachable" % name
    return "contained"
