# escape: typing aliases forward attribute reads to their origin: typing.Mapping.register / Callable[...].register (a standard ABC's register), Type[int](...) to call type
# layer: guard
# expect: contained
import typing


def tool(conv):
    for name, alias in (("Mapping", typing.Mapping), ("Callable", typing.Callable[[int], int]),
                        ("Sequence", typing.Sequence[int])):
        try:
            alias.register(str)
        except AttributeError as exc:
            if "register() is available only on the tool's own ABCs" not in str(exc):
                return "%s.register refused for another reason: %s" % (name, exc)
            continue
        return "escaped: registered str with typing.%s" % name
    try:
        typing.Type[int]("Ghost", (), {})
    except TypeError as exc:
        if "cannot be instantiated" not in str(exc):
            return "Type[int](...) refused for another reason: %s" % exc
    else:
        return "escaped: built a class through typing.Type[int]"
    return "contained"
