"""Ordinary Python as customers write it (issue 13), compiled by sandbox.compile.compiler and
run in-process under the guards (sandbox.child.guards): each example gives the same answer
as plain CPython running the same source.
"""

from __future__ import annotations

import sys
import types

import pytest

from tests.guard_support import FakeConv, FakeLog, call

# ---------------------------------------------------------------------------------------
# ordinary Python as customers write it (issue 13): runs as CPython runs it
# ---------------------------------------------------------------------------------------

ORDINARY = {
    "private helpers and attributes": (
        """
_CACHE = {}

def _fmt_time(hour):
    return f"{hour:02d}:00"

class Attempts:
    def __init__(self):
        self._attempts = 0
        self.__token = "t"

    def bump(self):
        self._attempts += 1
        return self._attempts, self.__token

def tool(conv):
    a = Attempts()
    a.bump()
    _CACHE["x"] = _fmt_time(9)
    return a.bump(), _CACHE, a._attempts, getattr(a, "_attempts"), hasattr(a, "_Attempts__token")
""",
        ((2, "t"), {"x": "09:00"}, 2, 2, True),
    ),
    "data-model methods and sorting": (
        """
from functools import total_ordering

class Money:
    __slots__ = ("cents",)
    def __init__(self, cents):
        self.cents = cents
    def __repr__(self):
        return f"{type(self).__name__}({self.cents})"
    def __str__(self):
        return "${:,.2f}".format(self.cents / 100)
    def __format__(self, spec):
        return format(self.cents / 100, spec)
    def __eq__(self, other):
        return isinstance(other, Money) and self.cents == other.cents
    def __lt__(self, other):
        return self.cents < other.cents
    def __hash__(self):
        return hash(self.cents)
    def __add__(self, other):
        return Money(self.cents + other.cents)
    def __bool__(self):
        return self.cents != 0

class Basket:
    def __init__(self, *items):
        self._items = list(items)
    def __len__(self):
        return len(self._items)
    def __iter__(self):
        return iter(self._items)
    def __contains__(self, item):
        return item in self._items
    def __getitem__(self, i):
        return self._items[i]
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        self._items.clear()
        return False

def tool(conv):
    prices = [Money(500), Money(120), Money(99999)]
    with Basket(*sorted(prices)) as basket:
        inside = (len(basket), Money(120) in basket, repr(basket[0]), str(basket[2]), f"{basket[1]:.1f}",
                  sum(p.cents for p in basket), bool(Money(0)), str(Money(1) + Money(2)), len({Money(1), Money(1)}))
    return inside, len(basket)
""",
        ((3, True, "Money(120)", "$999.99", "5.0", 100619, False, "$0.03", 1), 0),
    ),
    "super and exception hierarchies": (
        """
class AppError(Exception):
    def __init__(self, message, code=500):
        super().__init__(message)
        self.code = code

class NotFound(AppError):
    def __init__(self, what):
        super().__init__(f"{what} not found", code=404)
        self._what = what

class Legacy(Exception):
    def __init__(self, message):
        Exception.__init__(self, message)

def tool(conv):
    out = []
    for error in (NotFound("booking"), Legacy("old")):
        try:
            raise error
        except AppError as e:
            out.append((type(e).__name__, str(e), e.code, e._what, e.__class__.__name__))
        except Exception as e:
            out.append((type(e).__name__, str(e)))
    return out
""",
        [("NotFound", "booking not found", 404, "booking", "NotFound"), ("Legacy", "old")],
    ),
    "class attributes, classmethod, staticmethod, property": (
        """
class Slot:
    opening = 9
    count = 0

    def __init__(self, hour):
        self.hour = hour
        Slot.count += 1

    @classmethod
    def first(cls):
        return cls(cls.opening)

    @staticmethod
    def label_for(hour):
        return f"{hour}:00"

    @property
    def label(self):
        return Slot.label_for(self.hour)

    @label.setter
    def label(self, text):
        self.hour = int(text.split(":")[0])

def tool(conv):
    s = Slot.first()
    s.label = "11:00"
    Slot(12)
    return s.label, Slot.count, Slot.__name__, Slot.__qualname__, type(s).__module__, Slot.__doc__
""",
        ("11:00", 2, "Slot", "Slot", "tool", None),
    ),
    "frozen dataclass and object.__setattr__": (
        """
from dataclasses import dataclass, field, replace, asdict

@dataclass(frozen=True, order=True)
class Booking:
    when: int
    who: str
    tags: tuple = ()
    slug: str = field(default="", compare=False)

    def __post_init__(self):
        object.__setattr__(self, "slug", f"{self.who.lower()}-{self.when}")

def tool(conv):
    a, b = Booking(10, "Ann"), Booking(9, "Bob")
    c = replace(a, when=8)
    return sorted([a, b, c])[0].slug, asdict(b), a == Booking(10, "Ann")
""",
        ("ann-8", {"when": 9, "who": "Bob", "tags": (), "slug": "bob-9"}, True),
    ),
    "enums": (
        """
from enum import Enum, IntEnum, StrEnum, Flag, auto

class Intent(StrEnum):
    BOOK = auto()
    CANCEL = auto()

class Priority(IntEnum):
    LOW = 1
    HIGH = 2

class Color(Enum):
    RED = "r"
    @classmethod
    def _missing_(cls, value):
        return cls.RED

class Perm(Flag):
    READ = auto()
    WRITE = auto()

def tool(conv):
    return (Intent("book"), Intent.CANCEL.value, Priority.HIGH > Priority.LOW, Color("zzz").name,
            Color.RED._value_, list(Intent.__members__), (Perm.READ | Perm.WRITE).value, Intent.BOOK.upper())
""",
        ("book", "cancel", True, "RED", "r", ["BOOK", "CANCEL"], 3, "BOOK"),
    ),
    "named tuples": (
        """
from collections import namedtuple
from typing import NamedTuple

Point = namedtuple("Point", "x y")

class Slot(NamedTuple):
    hour: int
    free: bool = True

Pair = NamedTuple("Pair", [("a", int), ("b", int)])

def tool(conv):
    p = Point(1, 2)._replace(y=5)
    s = Slot(9)
    return p._asdict(), s._asdict(), s._replace(free=False), Pair(1, 2)._fields, Slot._fields
""",
        ({"x": 1, "y": 5}, {"hour": 9, "free": True}, (9, False), ("a", "b"), ("hour", "free")),
    ),
    "str.format, format_map, % and f-strings": (
        """
def tool(conv):
    fields = {"name": "Ann", "n": 3}
    class Thing:
        label = "t"
    return ("{:,.2f}".format(1234.5), "Hello {name}".format(**fields), "{0} {1} {0}".format("a", "b"),
            "{} {}".format(1, 2), "{a[k]} {t.label}".format(a={"k": 1}, t=Thing()), "{n:{w}d}".format_map({"n": 5, "w": 3}),
            "%s has %d" % ("Ann", 3), "%(name)s" % fields, f"{1.5!r:>6}", str.format("{}!", "hi"))
""",
        ("1,234.50", "Hello Ann", "a b a", "1 2", "1 t", "  5", "Ann has 3", "Ann", "   1.5", "hi!"),
    ),
    "typing at run time": (
        """
from __future__ import annotations
from typing import (TYPE_CHECKING, Any, Callable, Final, Generator, Iterable, Iterator, Literal, Optional,
                    Protocol, TypedDict, Union, cast, runtime_checkable)

if TYPE_CHECKING:
    from toolpool.tool import Conversation

LIMIT: Final = 3

class Movie(TypedDict, total=False):
    name: str
    year: int

@runtime_checkable
class Greeter(Protocol):
    def greet(self) -> str: ...

class English:
    def greet(self) -> str:
        return "hello"

def numbers(n: int) -> Iterator[int]:
    yield from range(n)

def tool(conv: Conversation) -> Optional[dict[str, Any]]:
    m: Movie = {"name": "x"}
    f: Callable[[int], int] = lambda v: v * 2
    kind: Literal["a", "b"] = cast(Literal["a", "b"], "a")
    return m, f(LIMIT), kind, isinstance(English(), Greeter), list(numbers(3))
""",
        ({"name": "x"}, 6, "a", True, [0, 1, 2]),
    ),
    "decimal context of the call": (
        """
from decimal import Decimal, getcontext, localcontext, ROUND_HALF_UP

def tool(conv):
    getcontext().prec = 6
    a = Decimal(1) / Decimal(7)
    with localcontext() as ctx:
        ctx.prec = 3
        ctx.rounding = ROUND_HALF_UP
        b = Decimal(2) / Decimal(3)
    getcontext().traps[Decimal.__class__ is type and __import__ if False else 0] = False if False else None
    return str(a), str(b)
""".replace(
            "    getcontext().traps[Decimal.__class__ is type and __import__ if False else 0] = False if False else None\n",
            "",
        ),
        ("0.142857", "0.667"),
    ),
    "functools on the tool's own functions": (
        """
import functools

def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        wrapper.calls += 1
        return fn(*args, **kwargs)
    wrapper.calls = 0
    return wrapper

@logged
def square(n):
    "Square it."
    return n * n

@functools.lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

class Report:
    def __init__(self, rows):
        self.rows = rows
    @functools.cached_property
    def total(self):
        return sum(self.rows)

def tool(conv):
    r = Report([1, 2])
    return square(3), square.calls, square.__name__, square.__doc__, fib(30), r.total, r.total
""",
        (9, 1, "square", "Square it.", 832040, 3, 3),
    ),
    "generators, closures, nonlocal, global, match, walrus": (
        """
COUNT = 0

def counter():
    n = 0
    def bump():
        nonlocal n
        n += 1
        return n
    return bump

def chunks(items, size):
    for i in range(0, len(items), size):
        yield items[i:i + size]

def relay():
    yield from chunks([1, 2, 3], 2)

def route(command, /, *, default="?"):
    global COUNT
    COUNT += 1
    match command.split():
        case ["book", day] if day:
            return f"book {day}"
        case ["cancel", *rest]:
            return f"cancel {len(rest)}"
        case {"kind": kind, **others}:
            return kind
        case _:
            return default

def tool(conv):
    b = counter()
    b(); b()
    first, *middle, last = [1, 2, 3, 4]
    if (n := len(middle)) > 1:
        pass
    assert n == 2, "two"
    d = {"x": 1}
    del d["x"]
    return b(), list(relay()), route("book monday"), route("cancel a b"), route("x", default="!"), COUNT, first, last, d
""",
        (3, [[1, 2], [3]], "book monday", "cancel 2", "!", 3, 1, 4, {}),
    ),
    "names spelled like the guards are the tool's own": (
        """
_getattr_ = "mine"
_write_ = 2

def f(_getitem_=None, /, *, _apply_=None):
    _tmp0 = 3
    return _getitem_, _apply_, _tmp0

def tool(conv):
    return _getattr_, _write_, f(1, _apply_=2), conv.env
""",
        ("mine", 2, (1, 2, 3), "sandbox"),
    ),
    "metaclass=type spelled out, and a cached function's __wrapped__": (
        """
import functools

class Plain(metaclass=type):
    pass

@functools.lru_cache(maxsize=None)
def square(n):
    return n * n

def tool(conv):
    return Plain.__name__, square.__wrapped__(4), square.__wrapped__.__name__
""",
        ("Plain", 16, "square"),
    ),
    "abstract base classes": (
        """
from abc import ABC, ABCMeta, abstractmethod

class Notifier(ABC):
    @abstractmethod
    def send(self, text): ...

class Legacy(metaclass=ABCMeta):
    @abstractmethod
    def run(self): ...

class Sms(Notifier):
    def send(self, text):
        return f"sms:{text}"

def tool(conv):
    try:
        Notifier()
        refused = False
    except TypeError:
        refused = True
    return Sms().send("hi"), refused, isinstance(Sms(), Notifier), isinstance(Legacy, ABCMeta)
""",
        ("sms:hi", True, True, True),
    ),
}


@pytest.mark.parametrize("name", sorted(ORDINARY))
def test_ordinary_python_runs_as_cpython_runs_it(name):
    source, expected = ORDINARY[name]
    result, _, _ = call(source)
    assert result == expected
    # the same source under plain CPython gives the same answer
    module = types.ModuleType("tool")
    module.__dict__.update({"Conversation": FakeConv, "log": FakeLog()})
    sys.modules["tool"] = module
    exec(compile(source.replace("from toolpool.tool import Conversation", "pass"), "tool.py", "exec"), module.__dict__)
    assert module.__dict__["tool"](FakeConv()) == expected
