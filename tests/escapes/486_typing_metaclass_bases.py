# escape: the metaclass of a NamedTuple/TypedDict/Protocol as a base, to build classes with a metaclass of the tool's own
# layer: guard
# expect: runtime_error cannot subclass 'type' in tools
import typing


class Point(typing.NamedTuple):
    x: int
    y: int


def tool(conv):
    class Meta(type(Point)):
        def __call__(cls, *args):
            return "hooked"

    return "escaped: %r" % Meta
