"""sandbox.child.guards: hostile code refused at run time with a clear message naming the
customer's line; the attribute and write guards called directly, as if the compile-time
layer had been broken; classes, unpacking, calls and print under the guards. Tool code
compiled by sandbox.compile.compiler runs in-process with the globals from make_globals,
against the stand-ins of tests/guard_support.py.

The same guards elsewhere: the classic escapes, each stopped by its layer
(tests/test_guards_escapes.py), every code example of the platform's pages
(tests/test_guards_seeds.py), ordinary Python as customers write it
(tests/test_guards_ordinary.py), make_globals and the import guard
(tests/test_make_globals.py).

Security tests here never skip.
"""

from __future__ import annotations

import datetime
import sys
import traceback
import types
from collections import Counter, OrderedDict, defaultdict, deque

import pytest

from sandbox import policy_tables
from sandbox.child import attributes, entry, guards, toolobjects, views  # noqa: F401 - entry registers the runtime's classes
from sandbox.child.guards import make_globals
from tests.guard_support import GETATTR, SPEC, WRITE, FakeConv, FakeLog, FakeState, call, failing, load

# ---------------------------------------------------------------------------------------
# refused at run time, with a clear message and the customer's line
# ---------------------------------------------------------------------------------------

RUNTIME_REFUSED = {
    # name: (source, line, exception type, words in the message)
    "datetime.sys": (
        "import datetime\n\ndef tool(conv):\n    return datetime.sys\n",
        4,
        AttributeError,
        "module 'datetime' has no attribute 'sys'",
    ),
    "json.codecs": (
        "import json\n\ndef tool(conv):\n    x = 1\n    return json.codecs.builtins\n",
        5,
        AttributeError,
        "module 'json' has no attribute 'codecs'",
    ),
    "json.decoder": (
        "import json\ndef tool(conv):\n    return json.decoder\n",
        3,
        AttributeError,
        "no attribute 'decoder'",
    ),
    "string.Formatter": (
        "import string\ndef tool(conv):\n    return string.Formatter\n",
        3,
        AttributeError,
        "no attribute 'Formatter'",
    ),
    "re.enum": ("import re\ndef tool(conv):\n    return re.enum\n", 3, AttributeError, "no attribute 'enum'"),
    "urllib.request through the package view": (
        "import urllib.parse\ndef tool(conv):\n    return urllib.request\n",
        3,
        AttributeError,
        "no attribute 'request'",
    ),
    "write to a read-only object": ("def tool(conv):\n    conv.env = 'live'\n", 2, TypeError, "read-only"),
    "delete from a read-only object": ("def tool(conv):\n    del conv.utils\n", 2, TypeError, "read-only"),
    "write to a module view": ("import json\ndef tool(conv):\n    json.dumps = len\n", 3, TypeError, "read-only"),
    "delete from a module view": ("import json\ndef tool(conv):\n    del json.loads\n", 3, TypeError, "read-only"),
    "write to a tuple": ("def tool(conv):\n    t = (1, 2)\n    t[0] = 3\n", 3, TypeError, "read-only"),
    "write to a runtime class": ("def tool(conv):\n    type(conv).extra = 1\n", 2, TypeError, "read-only"),
    "write to a builtin function": ("def tool(conv):\n    len.extra = 1\n", 2, TypeError, "read-only"),
    "generator internals": ("def tool(conv):\n    g = (i for i in [1])\n    return g.gi_yieldfrom\n", None, None, None),
    "generator code by getattr": (
        "def tool(conv):\n    g = (i for i in [1])\n    return getattr(g, 'gi_' + 'code')\n",
        3,
        AttributeError,
        "'gi_code' is not available",
    ),
    "base with a custom metaclass": ("from typing import Any\nclass A(Any):\n    pass\n", 2, TypeError, "metaclass"),
    "print to a file": (
        "def tool(conv):\n    print('x', file=conv)\n",
        2,
        TypeError,
        "print(file=...) is not supported",
    ),
    "missing attribute": (
        "def tool(conv):\n    return conv.nothing_here\n",
        2,
        AttributeError,
        "'FakeConv' object has no attribute 'nothing_here'",
    ),
    "private attribute of a runtime object": (
        "def tool(conv):\n    return conv.state._data\n",
        2,
        AttributeError,
        "readable only on the tool's own classes and objects",
    ),
    "private attribute by getattr": (
        "def tool(conv):\n    return getattr(conv.state, '_da' + 'ta')\n",
        2,
        AttributeError,
        "readable only on the tool's own classes and objects",
    ),
    "private attribute by a format field": (
        "def tool(conv):\n    return '{0.state._data}'.format(conv)\n",
        2,
        AttributeError,
        "readable only on the tool's own classes and objects",
    ),
    "a door by a format field": (
        "def tool(conv):\n    return '{0.__init__.__globals__}'.format(tool)\n",
        2,
        AttributeError,
        "'__globals__' is not available",
    ),
    "a door nested in a format spec": (
        "def tool(conv):\n    return '{0:{1.__globals__}}'.format(1, tool)\n",
        2,
        AttributeError,
        "'__globals__' is not available",
    ),
    "str.format unbound": (
        "def tool(conv):\n    f = str.format\n    return f('{0.gi_frame}', (i for i in []))\n",
        3,
        AttributeError,
        "'gi_frame' is not available",
    ),
    "format_map": (
        "def tool(conv):\n    return '{x.__globals__}'.format_map({'x': tool})\n",
        2,
        AttributeError,
        "'__globals__'",
    ),
    "a class's metaclass": ("def tool(conv):\n    return int.__class__\n", 2, AttributeError, "metaclass"),
    "type with three arguments": (
        "def tool(conv):\n    return type('X', (), {})\n",
        2,
        TypeError,
        "type() takes one argument",
    ),
    "object.__setattr__ on a runtime object": (
        "def tool(conv):\n    object.__setattr__(conv.state, '_data', {})\n",
        2,
        TypeError,
        "applies only to the tool's own objects",
    ),
    "__init__ of a runtime class on its object": (
        "def tool(conv):\n    type(conv.state).__init__(conv.state, {'x': 1})\n",
        2,
        TypeError,
        "applies only to the tool's own objects",
    ),
    "object.__new__ of a runtime class": (
        "def tool(conv):\n    return object.__new__(type(conv))\n",
        2,
        TypeError,
        "applies only to the tool's own objects",
    ),
    "bound __init__ of a runtime object": (
        "def tool(conv):\n    conv.state.__init__({})\n",
        2,
        AttributeError,
        "applies only to the tool's own objects",
    ),
    "vars of a runtime object": (
        "def tool(conv):\n    return vars(conv)\n",
        2,
        TypeError,
        "vars() argument must be one of the tool's own objects",
    ),
    "setattr of a private runtime name": (
        "class A:\n    pass\ndef tool(conv):\n    setattr(conv.state, '_data', 1)\n",
        4,
        AttributeError,
        "belong to the class that defined them",
    ),
    "setting a dunder": (
        "class A:\n    pass\ndef tool(conv):\n    setattr(A, '__del__', len)\n",
        4,
        AttributeError,
        "setting '__del__' is not allowed",
    ),
    "subclassing super": ("class S(super):\n    pass\n", 1, TypeError, "cannot subclass 'super'"),
    "a metaclass as base": ("class M(type(int)):\n    pass\n", 1, TypeError, "cannot subclass 'type'"),
    "super() reaching a runtime private": (
        "def tool(conv):\n    class T(type(conv.state)):\n        def peek(self):\n            return super()._data\n"
        "    return T().peek()\n",
        4,
        AttributeError,
        "readable only on the tool's own",
    ),
    "mro by getattr": (
        "def tool(conv):\n    return getattr(int, 'm' + 'ro')()\n",
        2,
        AttributeError,
        "'mro' is not available",
    ),
    "AttributeError.obj": (
        "def tool(conv):\n    try:\n        conv.nope\n    except AttributeError as e:\n        return e.obj\n",
        5,
        AttributeError,
        "AttributeError.obj is not available",
    ),
    "property fget": (
        "def tool(conv):\n    return type(conv).variant.fget(conv)\n",
        2,
        AttributeError,
        "property.fget is not available",
    ),
    "register on a standard ABC": (
        "import collections.abc\nclass A:\n    pass\ndef tool(conv):\n    collections.abc.Mapping.register(A)\n",
        5,
        AttributeError,
        "register() is available only on the tool's own ABCs",
    ),
}


@pytest.mark.parametrize("name", sorted(RUNTIME_REFUSED))
def test_refused_at_run_time(name):
    source, line, kind, words = RUNTIME_REFUSED[name]
    if kind is None:  # refused at compile time already
        with pytest.raises(Exception):
            load(source)
        return
    if line is not None and not source.split("\n")[line - 1].startswith(" "):
        with pytest.raises(kind) as info:
            load(source)
        frames = [f for f in traceback.extract_tb(info.value.__traceback__) if f.filename == "tool.py"]
        error, error_line = info.value, frames[-1].lineno
    else:
        error, error_line = failing(source)
    assert isinstance(error, kind), repr(error)
    assert words in str(error), str(error)
    assert error_line == line


def test_attribute_errors_carry_no_objects():
    # CVE-2024-47532: AttributeError.obj would hand the tool the object whose lookup failed.
    source = (
        "import json\n"
        "def tool(conv):\n"
        "    caught = []\n"
        "    for attempt in (lambda: conv.nothing, lambda: json.codecs, lambda: conv.state._data,\n"
        "                    lambda: getattr(conv, '_utils'), lambda: '{0._x}'.format(conv)):\n"
        "        try:\n"
        "            attempt()\n"
        "        except AttributeError as error:\n"
        "            caught.append(error)\n"
        "    return caught\n"
    )
    caught, _, _ = call(source)
    assert len(caught) == 5
    for error in caught:
        assert error.obj is None and error.name is None
        assert error.__context__ is None and error.__cause__ is None


def test_attribute_error_from_a_view_carries_no_module():
    namespace, _ = load("import datetime\n")
    with pytest.raises(AttributeError) as info:
        namespace[GETATTR](namespace["datetime"], "sys")
    assert info.value.obj is None and info.value.__context__ is None


# ---------------------------------------------------------------------------------------
# the attribute guard, called directly (as if the compile-time layer had been broken)
# ---------------------------------------------------------------------------------------


def _generator():
    yield 1


class _RuntimeThing:
    """Stands for a runtime class: defined outside tool code, so not a tool class."""

    def __init__(self):
        self._secret = "s"
        self.public = "p"


GETATTR_REFUSED = {
    "dunder on a number": (1, "__globals__", "'__globals__' is not available"),
    "type.mro": (int, "mro", "'mro' is not available"),
    "a class's __class__": (int, "__class__", "metaclass"),
    "AttributeError.obj": (AttributeError("x"), "obj", "AttributeError.obj"),
    "generator gi_frame": (_generator(), "gi_frame", "'gi_frame' is not available"),
    "generator gi_yieldfrom": (_generator(), "gi_yieldfrom", "'gi_yieldfrom' is not available"),
    "frame": (sys._getframe(), "f_lineno", "frame objects"),
    "frame f_back": (sys._getframe(), "f_back", "'f_back' is not available"),
    "code": (_generator.__code__, "co_name", "code objects"),
    "traceback": (None, "tb_lineno", "traceback objects"),
    "real module": (sys, "modules", "module objects"),
    "real json module": (__import__("json"), "dumps", "module objects"),
    "cell": (types.CellType(1), "cell_contents", "'cell_contents' is not available"),
    "property setter": (property(lambda self: 1), "fset", "property.fset"),
    "property getter": (property(lambda self: 1), "fget", "property.fget"),
    "private of a runtime object": (_RuntimeThing(), "_secret", "readable only on the tool's own"),
    "unknown dunder": (_RuntimeThing(), "__sizeof_not__", "'__sizeof_not__' is not available"),
    "__dict__ of a runtime object": (_RuntimeThing(), "__dict__", "only on the tool's own"),
    "__dict__ of a class": (int, "__dict__", "a class's __dict__ is not available"),
    "__init__ bound to a runtime object": (_RuntimeThing(), "__init__", "applies only to the tool's own objects"),
    "a module reached through an attribute": (types.SimpleNamespace(m=sys), "m", "module object"),
    "a metaclass reached through an attribute": (types.SimpleNamespace(m=type), "m", "metaclass"),
}


@pytest.mark.parametrize("name", sorted(GETATTR_REFUSED))
def test_getattr_guard_refuses(name):
    obj, attribute, words = GETATTR_REFUSED[name]
    if name == "traceback":
        try:
            raise ValueError
        except ValueError as exc:
            obj = exc.__traceback__
    guard = make_globals(SPEC, {"log": FakeLog()})[GETATTR]
    with pytest.raises(AttributeError) as info:
        guard(obj, attribute)
    assert words in str(info.value)
    assert info.value.obj is None and info.value.name is None and info.value.__context__ is None


def test_every_spelling_refuses_what_a_dot_refuses():
    namespace, _ = load("x = 1\n")
    builtins_ = namespace["__builtins__"]
    for obj, name in ((1, "__globals__"), (_RuntimeThing(), "_secret"), (int, "mro"), (_generator(), "gi_frame")):
        with pytest.raises(AttributeError):
            namespace[GETATTR](obj, name)
        with pytest.raises(AttributeError):
            builtins_["getattr"](obj, name)
        assert builtins_["getattr"](obj, name, "default") == "default"
        assert builtins_["hasattr"](obj, name) is False
        fmt = namespace[GETATTR]("{0." + name + "}", "format")
        with pytest.raises(AttributeError):
            fmt(obj)


def test_names_are_compared_as_exact_strings():
    class Lying(str):
        def __eq__(self, other):
            return True

        def __hash__(self):
            return hash("public")

        def startswith(self, prefix):
            return False

    guard = make_globals(SPEC, {"log": FakeLog()})[GETATTR]
    with pytest.raises(AttributeError) as info:
        guard(_RuntimeThing(), Lying("_secret"))
    assert "readable only on the tool's own" in str(info.value)
    with pytest.raises(TypeError):
        guard("x", b"split")


def test_getattr_guard_floor_survives_an_empty_forbidden_list():
    spec = {**SPEC, "forbidden": []}
    guard = make_globals(spec, {"log": FakeLog()})[GETATTR]
    for name in sorted(policy_tables.FORBIDDEN_ATTRIBUTES):
        with pytest.raises(AttributeError):
            guard("text", name)


def test_getattr_guard_allows_ordinary_reads():
    guard = make_globals(SPEC, {"log": FakeLog()})[GETATTR]
    assert guard("a b", "split")() == ["a", "b"]
    assert guard(_generator(), "send") is not None
    assert guard(datetime.date(2020, 1, 2), "day") == 2
    assert guard(_RuntimeThing(), "public") == "p"
    assert guard(_RuntimeThing(), "__class__") is _RuntimeThing
    assert guard(int, "__name__") == "int"
    assert guard(1, "__add__")(2) == 3


def test_str_format_is_never_the_real_method():
    guard = make_globals(SPEC, {"log": FakeLog()})[GETATTR]
    for obj in ("{0}", str):
        value = guard(obj, "format")
        assert value is not str.format and type(value) is types.FunctionType

    class Sub(str):
        pass

    assert guard(Sub("{0}!"), "format")("x") == "x!"
    with pytest.raises(ValueError):
        guard("{}{0}", "format")(1)
    with pytest.raises(ValueError):
        guard("{0}{}", "format")(1)
    with pytest.raises(IndexError):
        guard("{1}", "format")(1)
    with pytest.raises(ValueError):
        guard("{0:{0:{0}}}", "format")(1)


# ---------------------------------------------------------------------------------------
# the write guard
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("obj", [{}, []])
def test_write_guard_passes_dicts_and_lists_through(obj):
    assert make_globals(SPEC, {"log": FakeLog()})[WRITE](obj) is obj


@pytest.mark.parametrize("obj", [OrderedDict(), defaultdict(int), Counter(), deque(), FakeState()])
def test_write_guard_allows_item_writes(obj):
    writer = make_globals(SPEC, {"log": FakeLog()})[WRITE](obj)
    if isinstance(obj, deque):
        obj.append(0)
        writer[0] = "v"
        assert obj[0] == "v"
    else:
        writer["k"] = "v"
        assert obj["k"] == "v"


@pytest.mark.parametrize(
    "obj",
    [
        (),
        "s",
        1,
        frozenset(),
        set(),
        _RuntimeThing(),
        _RuntimeThing,
        FakeConv(),
        type("D", (dict,), {})(),
        views.build_view("json", ["dumps"]),
        len,
        sys,
    ],
)
def test_write_guard_refuses(obj):
    with pytest.raises(TypeError) as info:
        make_globals(SPEC, {"log": FakeLog()})[WRITE](obj)
    assert "read-only" in str(info.value)


# ---------------------------------------------------------------------------------------
# classes, unpacking, calls, in-place operators, print
# ---------------------------------------------------------------------------------------


def test_tool_classes_are_registered_and_writable():
    source = """
class BookingError(Exception):
    pass

class Slot(object):
    def __init__(self, hour):
        self.hour = hour
        self.taken = False

def tool(conv):
    slot = Slot(9)
    slot.taken = True
    Slot.kind = "morning"
    return slot.taken, Slot.kind
"""
    result, _, _ = call(source)
    assert result == (True, "morning")
    namespace, _ = load(source)
    assert namespace["Slot"].__module__ == "tool"
    assert toolobjects.is_tool_class(namespace["Slot"]) and toolobjects.is_tool_class(namespace["BookingError"])
    assert not toolobjects.is_tool_class(_RuntimeThing)
    assert toolobjects.is_tool_function(namespace["tool"]) and not toolobjects.is_tool_function(_generator)


def test_class_guard_refuses_hooks_metaclasses_and_proxies():
    with pytest.raises(TypeError) as info:
        toolobjects.build_class(lambda: None, "Meta", type)
    assert "cannot subclass 'type'" in str(info.value)
    with pytest.raises(TypeError):
        toolobjects.build_class(lambda: None, "A", 1)
    with pytest.raises(TypeError) as info:
        toolobjects._ClassGuard(None)("A", (), {"__del__": lambda self: None})
    assert "defining '__del__' is not allowed" in str(info.value)
    with pytest.raises(TypeError) as info:
        toolobjects._ClassGuard(None)("A", (), {"__match_args__": ("__globals__",)})
    assert "__match_args__" in str(info.value)
    with pytest.raises(TypeError) as info:
        toolobjects._ClassGuard(type("M", (type,), {}))("A", (), {})
    assert "not available to tools" in str(info.value)


def test_unpacking_calls_and_in_place_operators():
    source = """
def pairs(*args, **kwargs):
    return args, kwargs

def tool(conv):
    a, (b, c), *rest = 1, (2, 3), 4, 5
    total = 0
    for key, (x, y) in {"k": (1, 2)}.items():
        total += x + y
    total *= 2
    total -= 1
    names = []
    names += ["x"]
    args, kwargs = pairs(*[1, 2], **{"k": 3})
    squares = {n: n * n for n in range(3)}
    return a, b, c, rest, total, names, args, kwargs, squares, [i for i, _ in enumerate("ab")]
"""
    result, _, _ = call(source)
    assert result == (1, 2, 3, [4, 5], 5, ["x"], (1, 2), {"k": 3}, {0: 0, 1: 1, 2: 4}, [0, 1])


def test_unpacking_iterator_is_not_a_generator():
    iterator = guards.guarded_iter_unpack_sequence([(1, 2)], {"childs": (), "min_len": 2})
    assert not isinstance(iterator, types.GeneratorType)
    assert list(iterator) == [[1, 2]]


def test_print_goes_to_the_log_one_record_per_call():
    source = """
def tool(conv):
    print("hello", conv.env)
    print("a", "b", sep="-", end="!")
    print()
"""
    _, _, log = call(source)
    assert log.records == [("info", "hello sandbox"), ("info", "a-b!"), ("info", "")]


def test_print_follows_a_swapped_log():
    namespace, first = load("def tool(conv):\n    print('x')\n")
    second = FakeLog()
    namespace["log"] = second  # what the runtime does when it reuses a namespace
    namespace["tool"](FakeConv())
    assert first.records == [] and second.records == [("info", "x")]


def test_module_level_print():
    _, log = load("print('at import')\n")
    assert log.records == [("info", "at import")]


def test_builtins_print_is_routed_too():
    namespace, log = load("x = 1\n")
    namespace["__builtins__"]["print"]("via builtins")
    assert log.records == [("info", "via builtins")]
