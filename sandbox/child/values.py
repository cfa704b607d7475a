"""Turning a tool's values into plain JSON data, inside the child.

Runs in the confined child, beside hostile tool code, and trusts nothing about the
values it is handed: a tool can pass subclasses of ``str``/``dict``/``int`` whose
``__eq__``, ``__hash__``, ``__iter__`` or ``__str__`` lie, objects whose ``__class__``
is a property, cycles, and structures built to be expensive to walk.

So ``to_plain`` reads values only through the C-level methods of the plain types: an
exact ``dict``/``list``/``str``/``int``/``float``/``bool``/``None`` is taken as it is, and
a subclass of one (a ``StrEnum`` member, a ``Counter``, a ``namedtuple``) becomes its
plain value, as ``json.dumps`` would store it, read through the base type's own methods
(``str.__str__``, ``dict.items``...). It never calls a method the tool could have defined. Its output is made of fresh ``dict``/``list``
objects holding exact ``str``/``int``/``float``/``bool``/``None`` values, so it is safe
to hand to ``json.dumps``. The walk is bounded: depth, number of values and integer
size are capped, and a container that contains itself is refused.

Everything refused raises ``UnstorableValue`` naming the place, e.g.
``state['x']['a'][2]: a set cannot be stored; use a list``.
"""

from __future__ import annotations

import math
import types
from typing import Any

MAX_DEPTH = 64
"""How many containers deep a value may nest below the root it is converted from."""

MAX_VALUES = 1_000_000
"""How many values (scalars and containers) one conversion may visit."""

MAX_INT_BITS = 14_000
"""Largest integer, in bits, that can be stored.

CPython refuses int<->str conversion past 4300 decimal digits (about 14284 bits), so a
larger int would break ``json.dumps`` in the child or ``json.loads`` in the supervisor.
"""

_KEY_SHOWN_CHARS = 40
_TYPE_NAME_CHARS = 60
# The getset descriptor behind ``cls.__name__``. Calling it directly reads the C-level
# type name, so a metaclass defined by the tool cannot substitute its own ``__name__``.
_RAW_TYPE_NAME = type.__dict__["__name__"]


class UnstorableValue(TypeError):
    """A value that cannot become plain JSON data. ``path`` says where it sits.

    A ``TypeError`` so that a tool assigning ``conv.state.s = {1}`` sees the error type
    Python programmers expect for "wrong kind of value".
    """

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def to_plain(value: Any, path: str, *, max_depth: int = MAX_DEPTH, max_values: int = MAX_VALUES) -> Any:
    """Return a plain-JSON copy of ``value`` or raise ``UnstorableValue``.

    ``path`` names the root in messages (``"state['x']"``, ``"return"``). Tuples become
    lists; ints, bools and big ints keep their exact type. The caller is responsible for
    byte-size caps: this function bounds work, not output size.
    """
    return _Walk(path, max_depth, max_values).convert(value, 0)


_ABSENT = object()


def same_plain(value: Any, plain: Any) -> bool:
    """Whether the tool's ``value`` is still exactly ``plain`` (plain data the runtime
    holds, e.g. the request's state): the same exact types at every level, equal values,
    ``0.0`` not ``-0.0``, dict key order aside. ``value`` is read only through C-level
    methods of exact builtin types, each type checked before the value is used, so no
    method the tool defined runs (a ``str`` subclass key is never hashed); the walk
    follows ``plain``, so it ends within ``plain``'s size whatever ``value`` holds (cycles
    included)."""
    cls = type(plain)
    if type(value) is not cls:
        return False
    if cls is dict:
        if len(value) != len(plain):
            return False
        for key, item in value.items():
            if type(key) is not str:
                return False
            expected = plain.get(key, _ABSENT)
            if expected is _ABSENT or not same_plain(item, expected):
                return False
        return True
    if cls is list:
        return len(value) == len(plain) and all(map(same_plain, value, plain))
    if cls is float:
        return value == plain and (value != 0.0 or math.copysign(1.0, value) == math.copysign(1.0, plain))
    same: bool = value == plain  # exact str, int, bool or None: a bool
    return same


def type_name(cls: type) -> str:
    """The C-level name of ``cls``, shortened; never runs tool code."""
    name: str = _RAW_TYPE_NAME.__get__(cls, type)
    if len(name) > _TYPE_NAME_CHARS:
        return name[:_TYPE_NAME_CHARS] + "..."
    return name


def show_key(key: str) -> str:
    """``repr`` of an exact str, shortened for use in a path."""
    if len(key) > _KEY_SHOWN_CHARS:
        key = key[:_KEY_SHOWN_CHARS] + "..."
    return repr(key)


class _Walk:
    """One conversion: the limits, the running budget and the path of the current value."""

    def __init__(self, root: str, max_depth: int, max_values: int):
        self.root = root
        self.max_depth = max_depth
        self.values_left = max_values
        # The key (an exact str) or index of each container on the way down to the current
        # value, pushed and popped around each child; shown as "['a']" and "[2]" only when
        # something is refused, so a walk that refuses nothing formats nothing.
        self.segments: list[str | int] = []
        # ids of the containers between the root and the current value: a cycle check.
        self.open_containers: set[int] = set()

    def refuse(self, reason: str) -> UnstorableValue:
        path = "".join(f"[{show_key(s)}]" if type(s) is str else f"[{s}]" for s in self.segments)
        return UnstorableValue(self.root + path, reason)

    def count(self) -> None:
        self.values_left -= 1
        if self.values_left < 0:
            raise self.refuse("the value is too large to store (too many items)")

    def convert(self, value: Any, depth: int) -> Any:
        self.count()
        cls = type(value)
        if value is None or cls is bool:
            return value
        if cls is str:
            return self.text(value)
        if cls is int:
            return self.integer(value)
        if cls is float:
            return self.real(value)
        if cls is dict or cls is list or cls is tuple:
            return self.container(value, cls, depth)
        return self.subclass(value, cls, depth)

    def subclass(self, value: Any, cls: type, depth: int) -> Any:
        """A subclass of a plain type (a ``StrEnum`` or ``IntEnum`` member, a ``Counter``, a
        ``namedtuple``) is stored as its plain value, as ``json.dumps`` stores it. The value
        is read through the base type's C-level methods, so no method the tool defined
        (``__str__``, ``__eq__``, ``__index__``, ``__iter__``...) ever runs."""
        if issubclass(cls, str):
            return self.text(str.__str__(value))
        if issubclass(cls, int):
            return self.integer(int.__int__(value))
        if issubclass(cls, float):
            return self.real(float.__float__(value))
        for base in (dict, list, tuple):
            if issubclass(cls, base):
                return self.container(value, base, depth)
        raise self.refuse(refusal_reason(value))

    def text(self, value: str) -> str:
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise self.refuse("a str with a lone surrogate cannot be stored; it is not valid UTF-8") from None
        return value

    def integer(self, value: int) -> int:
        bits = value.bit_length()
        if bits > MAX_INT_BITS:
            raise self.refuse(f"an int of {bits} bits cannot be stored (limit {MAX_INT_BITS} bits)")
        return value

    def real(self, value: float) -> float:
        if math.isnan(value):
            raise self.refuse("NaN cannot be stored; JSON has no NaN")
        if math.isinf(value):
            raise self.refuse("infinity cannot be stored; JSON has no infinity")
        return value

    def container(
        self, value: dict[Any, Any] | list[Any] | tuple[Any, ...], base: type, depth: int
    ) -> dict[str, Any] | list[Any]:
        """``base`` is the plain type ``value`` is (or derives from): its C-level methods
        read the contents, never a method of a subclass."""
        if depth >= self.max_depth:
            raise self.refuse(f"the value is nested more than {self.max_depth} levels deep")
        marker = id(value)
        if marker in self.open_containers:
            raise self.refuse("the value contains itself; only trees of plain data can be stored")
        self.open_containers.add(marker)
        try:
            if base is dict:
                return self.mapping(value, depth + 1)  # type: ignore[arg-type]  # base is dict: so is value
            return self.sequence(base.__iter__(value), depth + 1)  # type: ignore[attr-defined]  # base is list or tuple
        finally:
            self.open_containers.discard(marker)

    def mapping(self, value: dict[Any, Any], depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        # dict.items is the C-level one, whatever subclass ``value`` is; keys are made
        # exact str before they are hashed into ``out``.
        for key, item in dict.items(value):
            if type(key) is not str:
                if not issubclass(type(key), str):
                    raise self.refuse(f"a dict key of type {type_name(type(key))} cannot be stored; keys must be str")
                key = str.__str__(key)
            self.segments.append(key)
            key = self.text(key)
            # An exact ASCII str, the most common value, is taken here: what convert would
            # do, without the calls (a 100 KiB state is walked twice per call).
            if type(item) is str and item.isascii():
                self.count()
                out[key] = item
            else:
                out[key] = self.convert(item, depth)
            self.segments.pop()
        return out

    def sequence(self, items: Any, depth: int) -> list[Any]:
        out: list[Any] = []
        # ``items`` is the C-level iterator of a list or tuple: no tool-defined __iter__.
        for index, item in enumerate(items):
            self.segments.append(index)
            if type(item) is str and item.isascii():
                self.count()
                out.append(item)
            else:
                out.append(self.convert(item, depth))
            self.segments.pop()
        return out


_ITERATOR_TYPES: tuple[type, ...] = (
    types.GeneratorType,
    range,
    map,
    filter,
    zip,
    enumerate,
    reversed,
    type({}.keys()),
    type({}.values()),
    type({}.items()),
)


def refusal_reason(value: Any) -> str:
    """Why ``value`` (not plain data) cannot be stored, with a hint. Runs no tool code.

    Only ``type(value)`` and ``issubclass`` on it are consulted: both read C-level type
    data, unlike ``isinstance``, which may consult a tool-defined ``__class__``.
    """
    cls = type(value)
    name = type_name(cls)
    if issubclass(cls, (set, frozenset)):
        return "a set cannot be stored; use a list"
    if issubclass(cls, (bytes, bytearray, memoryview)):
        return "bytes cannot be stored; decode them to a str"
    if issubclass(cls, _ITERATOR_TYPES):
        return f"a {name} cannot be stored; use list(...)"
    if issubclass(cls, type):
        return "a class cannot be stored"
    if issubclass(cls, types.ModuleType):
        return "a module cannot be stored"
    if callable(value):
        return "a function cannot be stored"
    if name in ("datetime", "date", "time", "timedelta", "Decimal"):
        return f"a {name} cannot be stored; convert it to a str (or a number) first"
    return f"a value of type {name} cannot be stored; use dict, list, str, int, float, bool or None"
