"""sandbox.child.views: module views hold only the allowed members, are read-only, and no
path of attribute reads a tool can make from anything it is given (module members, their
classes' instances, the builtins) reaches a module, frame, code object or dangerous builtin.

Security tests here never skip.
"""

from __future__ import annotations

import builtins
import collections
import copy
import datetime
import decimal
import difflib
import functools
import hashlib
import hmac
import importlib
import itertools
import json
import pickle
import random
import re
import string
import sys
import time
import types
import typing
import urllib.parse
import uuid

import pytest

from sandbox import policy_tables
from sandbox.child import modules, views
from sandbox.child.guards import make_globals
from sandbox.child.views import ModuleView, build_view, package_view, preload, view_names
from sandbox.guardnames import GUARD_NAMES
from sandbox.policy import DEFAULT_POLICY


class _Log:
    def info(self, message):
        pass


SPEC = {
    "modules": {name: sorted(rule.names) for name, rule in DEFAULT_POLICY.modules.items()},
    "builtins": sorted(DEFAULT_POLICY.builtins),
    "forbidden": sorted(DEFAULT_POLICY.forbidden_attributes),
}


def tool_globals():
    return make_globals(SPEC, {"log": _Log()})


def tool_view(module: str) -> ModuleView:
    """The view a tool gets for ``module`` (stand-ins included), as the import guard builds it."""
    importer = tool_globals()["__builtins__"]["__import__"]
    return importer(module, None, None, tuple(SPEC["modules"][module])[:1] or ("x",))


# ---------------------------------------------------------------------------------------
# a view holds only its members and is read-only
# ---------------------------------------------------------------------------------------


def test_view_exposes_only_the_listed_members():
    view = build_view("json", ["dumps", "loads"])
    assert view.dumps is json.dumps and view.loads is json.loads
    assert view_names(view) == ("dumps", "loads")
    for name in (
        "JSONDecoder",
        "codecs",
        "decoder",
        "scanner",
        "encoder",
        "__dict__",
        "__spec__",
        "__loader__",
        "__file__",
    ):
        with pytest.raises(AttributeError) as info:
            getattr(view, name)
        assert "available to tools" in str(info.value)


def test_view_never_holds_the_real_module():
    view = build_view("json", ["dumps"])
    held = [object.__getattribute__(view, slot) for slot in ModuleView.__slots__]
    assert json not in held
    assert all(value is not json for value in object.__getattribute__(view, "_view_members").values())
    assert not hasattr(view, "__dict__")


def test_members_that_are_modules_or_underscored_are_dropped():
    view = build_view("datetime", ["sys", "datetime_CAPI", "_divide_and_round", "date", "no_such_name"])
    assert view_names(view) == ("date", "datetime_CAPI")  # a capsule, but no module and no "_"
    view = build_view("json", ["codecs", "decoder", "dumps"])
    assert view_names(view) == ("dumps",)


@pytest.mark.parametrize("action", ["set", "delete", "set new"])
def test_view_is_read_only(action):
    view = build_view("json", ["dumps"])
    with pytest.raises(AttributeError):
        if action == "set":
            view.dumps = len
        elif action == "delete":
            del view.dumps
        else:
            view.anything = 1
    with pytest.raises(AttributeError):
        object.__setattr__(view, "anything", 1)  # no __dict__ to put it in
    assert view.dumps is json.dumps


def test_view_cannot_be_subclassed_copied_pickled_or_made():
    view = build_view("json", ["dumps"])
    with pytest.raises(TypeError):
        type("Sub", (ModuleView,), {})
    for operation in (copy.copy, copy.deepcopy, pickle.dumps):
        with pytest.raises((TypeError, copy.Error, pickle.PicklingError)):
            operation(view)
    with pytest.raises(TypeError):
        ModuleView(object(), "os", {"system": print})


def test_view_identity_helpers():
    view = build_view("json", ["dumps"])
    assert view.__name__ == "json"
    assert view.__class__ is ModuleView and isinstance(view, ModuleView)
    assert repr(view) == "<module 'json' (tool view)>"
    assert dir(view) == ["dumps"]


def test_package_view_holds_only_views():
    child = build_view("urllib.parse", ["quote"])
    parent = package_view("urllib", {"parse": child})
    assert parent.parse is child and view_names(parent) == ("parse",)
    with pytest.raises(AttributeError):
        parent.request
    with pytest.raises(TypeError):
        package_view("urllib", {"parse": urllib.parse})


def test_polyai_voice_is_virtual():
    voice = pytest.importorskip("sandbox.child.voice")  # the voice engineer's module
    view = build_view("polyai.voice", ["CartesiaVoice", "NoSuchVoice"])
    assert view.CartesiaVoice is voice.VOICE_MODULE_NAMES["CartesiaVoice"]
    assert view_names(view) == ("CartesiaVoice",)


def test_polyai_voice_without_the_voice_module(monkeypatch):
    monkeypatch.setitem(sys.modules, "sandbox.child.voice", None)  # import now fails
    with pytest.raises(ImportError) as info:
        build_view("polyai.voice", ["CartesiaVoice"])
    assert "polyai.voice is not available" in str(info.value)
    assert preload(["polyai.voice", "json"]) == ("polyai.voice",)


def test_preload_reports_what_it_could_not_import():
    assert preload(["json", "no_such_module_anywhere"]) == ("no_such_module_anywhere",)


# ---------------------------------------------------------------------------------------
# the default policy's modules: every listed name exists, nothing else is there
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", sorted(policy_tables.MODULES))
def test_every_listed_member_exists(module):
    _, names = policy_tables.MODULES[module]
    view = tool_view(module)
    children = tuple(m.rsplit(".", 1)[1] for m in policy_tables.MODULES if m.startswith(module + "."))
    assert view_names(view) == tuple(sorted((*names, *children))), "policy_tables lists names this Python lacks"


@pytest.mark.parametrize("module", sorted(policy_tables.LEFT_OUT))
def test_left_out_members_are_out_and_say_why(module):
    assert module in policy_tables.MODULES, f"LEFT_OUT names {module!r}, which tools cannot import"
    listed = set(policy_tables.MODULES[module][1])
    for member, reason in policy_tables.LEFT_OUT[module].items():
        assert member not in listed, f"{module}.{member} is both allowed and left out"
        assert type(reason) is str and reason and reason[-1] != ".", f"{module}.{member}: one clause, no full stop"
        if module in SPEC["modules"] and "." not in member:
            with pytest.raises(AttributeError) as info:
                getattr(tool_view(module), member)
            assert str(info.value).endswith(f"available to tools: {reason}")


@pytest.mark.parametrize(
    "module", sorted(m for m in policy_tables.MODULES if m not in views.VIRTUAL_MODULES and m not in modules.VIRTUAL)
)
def test_no_module_attribute_of_the_real_module_is_reachable(module):
    view = tool_view(module)
    real = importlib.import_module(module)
    doors = [name for name, value in vars(real).items() if isinstance(value, types.ModuleType)]
    for name in doors:  # e.g. datetime.sys, json.codecs, json.decoder, re.enum, random.os...
        try:
            value = getattr(view, name)
        except AttributeError:
            continue
        assert type(value) is ModuleView, f"{module}.{name} is {value!r}"  # a listed submodule's view


def test_known_doors_are_closed():
    importer = tool_globals()["__builtins__"]["__import__"]
    datetime_view = importer("datetime")
    json_view = importer("json")
    for view, name in [(datetime_view, "sys"), (json_view, "codecs"), (json_view, "decoder"), (json_view, "scanner")]:
        with pytest.raises(AttributeError):
            getattr(view, name)


_IMMUTABLE = (
    int,
    float,
    str,
    bytes,
    bool,
    tuple,
    frozenset,
    type(None),
    uuid.UUID,
    decimal.Decimal,
    datetime.tzinfo,
    types.MappingProxyType,
    ModuleView,
)
# Values that are mutable in principle but hold nothing of anyone else's: a sentinel, the
# decimal context templates (in a fresh child they are the call's own; in a reused child
# they persist between calls of the same tool, as the README says of reuse mode), type
# variables and typing's special forms.
_SHAREABLE = {
    ("dataclasses", "KW_ONLY"),
    ("dataclasses", "MISSING"),
    ("decimal", "BasicContext"),
    ("decimal", "ExtendedContext"),
    ("decimal", "DefaultContext"),
    ("typing", "AnyStr"),
}


@pytest.mark.parametrize("module", sorted(policy_tables.MODULES))
def test_exported_values_are_functions_classes_or_immutable(module):
    # Anything mutable that a module exports is shared by every call of a reused child.
    view = tool_view(module)
    for name in view_names(view):
        value = getattr(view, name)
        if callable(value) or isinstance(value, (type, typing._SpecialForm)) or (module, name) in _SHAREABLE:
            continue
        if module == "calendar" and name in ("day_name", "day_abbr", "month_name", "month_abbr"):
            continue  # read-only sequences of localized names (no item assignment)
        if module == "__future__":
            continue  # a _Feature: version tuples and a flag
        assert isinstance(value, _IMMUTABLE), f"{module}.{name} is a mutable {type(value).__name__}"


# ---------------------------------------------------------------------------------------
# reachability: from everything a tool is handed, attribute reads never reach the
# interpreter's internals
# ---------------------------------------------------------------------------------------

_DANGEROUS_TYPES = (types.ModuleType, types.FrameType, types.CodeType, types.TracebackType, types.CellType)


def _dangerous_objects():
    named = {
        "eval": eval,
        "exec": exec,
        "compile": compile,
        "open": open,
        "__import__": builtins.__import__,
        "getattr": getattr,
        "setattr": setattr,
        "delattr": delattr,
        "globals": globals,
        "locals": locals,
        "vars": vars,
        "input": input,
        "breakpoint": breakpoint,
        "sys.modules": sys.modules,
        "object.__subclasses__": object.__subclasses__,
        "builtins dict": vars(builtins),
    }
    for module in list(sys.modules.values()):
        if isinstance(module, types.ModuleType):
            named[f"vars({module.__name__})"] = vars(module)
    return named


def _instances(importer):
    """Instances of the exported classes, and results of exported functions."""

    def tool_module(name):
        return importer(name, None, None, tuple(SPEC["modules"][name])[:1])

    logging_ = tool_module("logging")
    zoneinfo_ = tool_module("zoneinfo")
    tz = tool_module("dateutil.tz")
    phonenumbers = pytest.importorskip("phonenumbers")
    import contextlib
    import csv
    import dataclasses
    import email.utils
    import enum
    import fractions
    import io
    import ipaddress
    import textwrap

    from dateutil import parser as du_parser
    from dateutil import relativedelta as du_rd
    from dateutil import rrule as du_rrule

    number = phonenumbers.parse("+442079460018", None)
    buffer = io.StringIO("a,b\n1,2\n")
    stack = contextlib.ExitStack()
    try:
        json.loads("{")
    except json.JSONDecodeError as exc:
        decode_error = exc
    voice = pytest.importorskip("sandbox.child.voice")
    return {
        "datetime.now()": datetime.datetime.now(),
        "date.today()": datetime.date.today(),
        "timedelta": datetime.timedelta(days=1),
        "timezone.utc": datetime.UTC,
        "compiled pattern": re.compile(r"(?P<word>\w+)"),
        "match": re.match(r"(\w+)", "abc"),
        "finditer": re.finditer("a", "aa"),
        "JSONDecoder()": json.JSONDecoder(),
        "JSONEncoder()": json.JSONEncoder(),
        "JSONDecodeError": decode_error,
        "Random(1)": random.Random(1),
        "Counter": collections.Counter("abca"),
        "OrderedDict": collections.OrderedDict(a=1),
        "defaultdict": collections.defaultdict(list),
        "deque": collections.deque([1], maxlen=3),
        "namedtuple instance": collections.namedtuple("Point", "x y")(1, 2),
        "Decimal": decimal.Decimal("1.25"),
        "getcontext()": decimal.getcontext(),
        "localcontext()": decimal.localcontext(prec=3),
        "SequenceMatcher": difflib.SequenceMatcher(None, "abc", "abd"),
        "partial": functools.partial(len, "abc"),
        "lru_cache wrapper": functools.lru_cache(maxsize=4)(abs),
        "cmp_to_key": functools.cmp_to_key(lambda a, b: 0)(1),
        "sha256()": hashlib.sha256(b"x"),
        "hmac.new()": hmac.new(b"key", b"msg", hashlib.sha256),
        "groupby": itertools.groupby("aab"),
        "tee": itertools.tee([1, 2])[0],
        "Template": string.Template("$name"),
        "localtime()": time.localtime(),
        "uuid4()": uuid.uuid4(),
        "urlparse()": urllib.parse.urlparse("https://user:pw@example.com:8080/p?q=1#f"),
        "urlsplit()": urllib.parse.urlsplit("https://example.com/p"),
        "Optional[int]": typing.Optional[int],  # noqa: UP045 - the view of typing.Optional is what is tested
        "Dict[str, int]": dict[str, int],
        "Literal['a']": typing.Literal["a"],
        "CartesiaVoice()": voice.VOICE_MODULE_NAMES["CartesiaVoice"](provider_voice_id="v"),
        "generator": (i for i in range(3)),
        "iterators": [iter([1]), iter({}), enumerate([]), zip([], []), map(len, []), reversed([1])],  # noqa: B905 - a zip object is the value tested
        "dict views": [{}.keys(), {}.values(), {}.items()],
        "exception": ValueError("x"),
        "property": property(lambda self: 1),
        "staticmethod": staticmethod(len),
        "classmethod": classmethod(len),
        "range": range(3),
        # issue 14's modules
        "logger": logging_.getLogger("tool.x"),
        "root logger": logging_.getLogger(),
        "logger adapter": logging_.LoggerAdapter(logging_.getLogger("a"), {}),
        "null handler": logging_.NullHandler(),
        "ZoneInfo": zoneinfo_.ZoneInfo("Europe/London"),
        "aware datetime": datetime.datetime(2026, 3, 29, 1, 30, tzinfo=zoneinfo_.ZoneInfo("Europe/London")),
        "gettz": tz.gettz("America/New_York"),
        "tzoffset": tz.tzoffset("X", 3600),
        "relativedelta": du_rd.relativedelta(weekday=du_rd.TU(+1)),
        "rrule": du_rrule.rrule(du_rrule.WEEKLY, count=2, dtstart=datetime.datetime(2026, 1, 1)),
        "parsed date": du_parser.parse("Tuesday 3pm", default=datetime.datetime(2026, 1, 1)),
        "PhoneNumber": number,
        "PhoneNumberMatcher": phonenumbers.PhoneNumberMatcher("call +44 20 7946 0018", "GB"),
        "AsYouTypeFormatter": phonenumbers.AsYouTypeFormatter("GB"),
        "dataclass field": dataclasses.field(default=1),
        "enum member": enum.Enum("E", "A B").A,
        "Fraction": fractions.Fraction(1, 3),
        "StringIO": buffer,
        "BytesIO": io.BytesIO(b"x"),
        "csv reader": csv.reader(buffer),
        "csv writer": csv.writer(io.StringIO()),
        "DictReader": csv.DictReader(io.StringIO("a\n1\n")),
        "ip address": ipaddress.ip_address("10.0.0.1"),
        "ip network": ipaddress.ip_network("10.0.0.0/8"),
        "ExitStack": stack,
        "suppress": contextlib.suppress(ValueError),
        "TextWrapper": textwrap.TextWrapper(width=10),
        "parsed e-mail date": email.utils.parsedate_to_datetime("Tue, 07 Dec 2026 10:00:00 +0000"),
        "attrgetter": tool_module("operator").attrgetter("a"),
        "methodcaller": tool_module("operator").methodcaller("a"),
        "ChainMap": collections.ChainMap({}),
        "Calendar": __import__("calendar").Calendar(),
        "SystemRandom": random.SystemRandom(),
        "HMAC": hmac.HMAC(b"k", b"m", "sha256"),
        "slice": slice(1, 2),
    }


def _roots():
    namespace = tool_globals()
    importer = namespace["__builtins__"]["__import__"]
    roots = {}
    for module, names in SPEC["modules"].items():
        view = importer(module, None, None, tuple(names))
        roots[module] = view
        for name in names:
            roots[f"{module}.{name}"] = getattr(view, name)
    for name, value in namespace["__builtins__"].items():
        roots[f"builtins.{name}"] = value
    for name in GUARD_NAMES.values():
        roots[name] = namespace[name]  # as if a guard leaked to the tool (GHSA-ffg3-p8fm-mjx2)
    roots.update(_instances(importer))
    return namespace[GUARD_NAMES["_getattr_"]], roots


def test_nothing_dangerous_is_reachable_by_attribute_reads():
    guard, roots = _roots()
    dangerous = _dangerous_objects()
    dangerous_ids = {id(value): name for name, value in dangerous.items()}
    keep_alive = []  # so that no id is reused while walking
    seen: set[int] = set()
    per_type: collections.Counter = collections.Counter()
    found = []
    queue = collections.deque((obj, path, 0) for path, obj in roots.items())
    while queue:
        obj, path, depth = queue.popleft()
        if isinstance(obj, list) and path in roots:
            queue.extend((item, f"{path}[{i}]", depth) for i, item in enumerate(obj))
            continue
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        keep_alive.append(obj)
        if isinstance(obj, _DANGEROUS_TYPES) or id(obj) in dangerous_ids:
            found.append(f"{path} -> {dangerous_ids.get(id(obj), type(obj).__name__)}")
            continue
        # What a read reaches depends on the object's type and the names it has; past a
        # few dozen instances of one type (phonenumbers' metadata has thousands), more of
        # the same adds time, not paths.
        per_type[type(obj)] += 1
        if depth >= 5 or per_type[type(obj)] > 40:
            continue
        try:
            names = dir(obj)
        except Exception:  # noqa: BLE001 - an object that cannot list its names ends the path
            continue
        for name in names:
            try:
                value = guard(obj, name)
            except Exception:  # noqa: BLE001 - refused or failing reads end the path
                continue
            queue.append((value, f"{path}.{name}", depth + 1))
    assert len(seen) > 2000, len(seen)  # the walk really walked
    assert found == []


def test_the_guard_refuses_every_door_the_walk_would_otherwise_use():
    guard, roots = _roots()
    for path in (
        "json.dumps",
        "datetime.datetime",
        "builtins.len",
        "re.compile",
        "logging.getLogger",
        "zoneinfo.ZoneInfo",
        "dataclasses.dataclass",
        "operator.attrgetter",
    ):
        for name in (
            "__globals__",
            "__self__",
            "__dict__",
            "__closure__",
            "__code__",
            "__subclasses__",
            "__func__",
            "__wrapped__",
            "__defaults__",
        ):
            with pytest.raises(AttributeError):
                guard(roots[path], name)
