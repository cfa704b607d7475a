"""sandbox.child.guards.make_globals: the names a tool module starts with, and the import
guard among them (every import form, views never modules, only what the policy lists).
Tool code compiled by sandbox.compile.compiler runs in-process against the stand-ins of
tests/guard_support.py.

Security tests here never skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.child import attributes, entry, guards, toolobjects, views  # noqa: F401 - entry registers the runtime's classes
from sandbox.child.guards import make_globals
from sandbox.guardnames import GUARD_NAMES
from tests.guard_support import GETATTR, SPEC, FakeConv, FakeLog, failing, load

# ---------------------------------------------------------------------------------------
# imports
# ---------------------------------------------------------------------------------------


def test_import_forms():
    source = """
import datetime as dt
import urllib.parse
import urllib.parse as up
from urllib import parse
from polyai.voice import CartesiaVoice
import polyai.voice
from collections import Counter
import json, math

def tool(conv):
    return (dt.date(2020, 1, 2).isoformat(), urllib.parse.quote("a b"), up.quote("c d"), parse.quote("e"),
            CartesiaVoice.__name__, polyai.voice.CartesiaVoice is CartesiaVoice, Counter("aab")["a"],
            json.loads("[1]"), math.floor(1.5))
"""
    namespace, _ = load(source)
    result = namespace["tool"](FakeConv())
    assert result == ("2020-01-02", "a%20b", "c%20d", "e", "CartesiaVoice", True, 2, [1], 1)
    assert type(namespace["dt"]) is views.ModuleView
    assert type(namespace["urllib"]) is views.ModuleView
    assert views.view_names(namespace["urllib"]) == ("parse",)


def test_future_import_runs():
    namespace, _ = load("from __future__ import annotations\ndef tool(conv: Undefined) -> Nowhere:\n    return 1\n")
    assert namespace["tool"](FakeConv()) == 1


IMPORT_REFUSED = {
    "os": (("os",), {}, "import of 'os' is not allowed"),
    "sys": (("sys",), {}, "import of 'sys' is not allowed"),
    "os.path": (("os.path",), {}, "import of 'os.path'"),
    "urllib.request": (("urllib.request",), {}, "import of 'urllib.request'"),
    "logging.config": (("logging.config",), {}, "import of 'logging.config'"),
    "from datetime import sys": (("datetime", None, None, ("sys",)), {}, "cannot import name 'sys' from 'datetime'"),
    "from json import decoder": (("json", None, None, ("decoder",)), {}, "cannot import name 'decoder'"),
    "from string import Formatter": (("string", None, None, ("Formatter",)), {}, "cannot import name 'Formatter'"),
    "from logging import FileHandler": (
        ("logging", None, None, ("FileHandler",)),
        {},
        "cannot import name 'FileHandler'",
    ),
    "from zoneinfo import reset_tzpath": (
        ("zoneinfo", None, None, ("reset_tzpath",)),
        {},
        "cannot import name 'reset_tzpath'",
    ),
    "star": (("math", None, None, ("*",)), {}, "cannot import name '*'"),
    "relative": (("helpers", None, None, ("x",), 1), {}, "relative imports are not allowed"),
    "non-str name": ((b"json",), {}, "import of 'bytes' is not allowed"),
    "polyai alone": (("polyai", None, None, ("other",)), {}, "cannot import name 'other' from 'polyai'"),
    "the stub package at run time": (("toolpool.tool",), {}, "import of 'toolpool.tool' is not allowed"),
}


@pytest.mark.parametrize("name", sorted(IMPORT_REFUSED))
def test_import_guard_refuses(name):
    args, kwargs, words = IMPORT_REFUSED[name]
    importer = make_globals(SPEC, {"log": FakeLog()})["__builtins__"]["__import__"]
    with pytest.raises(ImportError) as info:
        importer(*args, **kwargs)
    assert words in str(info.value)


def test_import_guard_returns_views_never_modules():
    importer = make_globals(SPEC, {"log": FakeLog()})["__builtins__"]["__import__"]
    for name in SPEC["modules"]:
        top = importer(name)
        assert type(top) is views.ModuleView
        leaf = importer(name, None, None, tuple(sorted(SPEC["modules"][name]))[:1])
        assert type(leaf) is views.ModuleView
    assert importer("json") is importer("json")  # built once per namespace


def test_a_listed_package_holds_its_listed_submodules():
    spec = {**SPEC, "modules": {**SPEC["modules"], "urllib": ["quote_not_here"]}}
    importer = make_globals(spec, {"log": FakeLog()})["__builtins__"]["__import__"]
    package = importer("urllib.parse")
    assert views.view_names(package) == ("parse",)
    assert package.parse.quote("a b") == "a%20b"
    with pytest.raises(ImportError):
        importer("urllib", None, None, ("request",))


def test_policy_view_lacks_names_the_policy_lacks():
    spec = {**SPEC, "modules": {**SPEC["modules"], "json": ["dumps"]}}
    importer = make_globals(spec, {"log": FakeLog()})["__builtins__"]["__import__"]
    assert views.view_names(importer("json")) == ("dumps",)
    with pytest.raises(ImportError):
        importer("json", None, None, ("loads",))


# ---------------------------------------------------------------------------------------
# make_globals itself
# ---------------------------------------------------------------------------------------


def test_make_globals_names():
    log = FakeLog()
    namespace = make_globals(SPEC, {"log": log, "Conversation": FakeConv})
    expected = {"__builtins__", "__name__", "$context", "log", "Conversation", *GUARD_NAMES.values()}
    assert set(namespace) == expected
    assert all(not name.isidentifier() for name in GUARD_NAMES.values())  # no tool can spell them
    assert namespace["__name__"] == "tool"
    assert namespace["log"] is log
    assert set(namespace["__builtins__"]) == set(SPEC["builtins"]) | {"__import__"}
    assert namespace["__builtins__"]["print"] is not print
    assert namespace["__builtins__"]["__import__"] is not __import__
    assert namespace["__builtins__"]["getattr"] is not getattr
    assert namespace["__builtins__"]["type"] is not type
    assert namespace["__builtins__"]["__build_class__"] is toolobjects.build_class
    assert make_globals(SPEC, {"log": log}, module_name="tools.booking")["__name__"] == "tools.booking"


def test_every_guard_the_transformer_emits_is_provided():
    import re

    import RestrictedPython.transformer as rp

    text = Path(rp.__file__).read_text()
    emitted = set(re.findall(r"ast\.Name\(\s*['\"](_[a-z_]+_)['\"]", text)) - {"_print_"}
    assert emitted <= set(GUARD_NAMES)


def test_make_globals_without_classes():
    spec = {**SPEC, "builtins": [b for b in SPEC["builtins"] if b != "__build_class__"]}
    namespace = make_globals(spec, {"log": FakeLog()})
    assert "__build_class__" not in namespace["__builtins__"]


def test_make_globals_is_fresh_each_time():
    one = make_globals(SPEC, {"log": FakeLog()})
    two = make_globals(SPEC, {"log": FakeLog()})
    assert one["__builtins__"] is not two["__builtins__"]
    assert one[GETATTR] is not two[GETATTR]
    one["__builtins__"]["len"] = None
    assert two["__builtins__"]["len"] is len


@pytest.mark.parametrize(
    "spec",
    [
        {**SPEC, "builtins": SPEC["builtins"] + ["eval"]},
        {**SPEC, "builtins": SPEC["builtins"] + ["__import__"]},
        {**SPEC, "builtins": SPEC["builtins"] + ["globals"]},
        {**SPEC, "builtins": SPEC["builtins"] + ["no_such_builtin"]},
        {**SPEC, "modules": {**SPEC["modules"], "os": ["system"]}},
        {**SPEC, "modules": {**SPEC["modules"], "importlib.util": ["find_spec"]}},
        {**SPEC, "modules": {**SPEC["modules"], "sandbox.child.guards": ["make_globals"]}},
        {**SPEC, "modules": "json"},
        {**SPEC, "builtins": "len"},
        {**SPEC, "forbidden": [1]},
        ["not", "a", "mapping"],
    ],
)
def test_make_globals_refuses_bad_specs(spec):
    with pytest.raises(ValueError):
        make_globals(spec, {"log": FakeLog()})


@pytest.mark.parametrize(
    "injected",
    [
        {},
        {"log": FakeLog(), "_getattr_": len},
        {"log": FakeLog(), "__builtins__": {}},
        {"log": FakeLog(), "not an identifier": 1},
        ["log"],
    ],
)
def test_make_globals_refuses_bad_injected(injected):
    with pytest.raises(ValueError):
        make_globals(SPEC, injected)


def test_runtime_errors_point_at_the_customer_line():
    source = "def helper(x):\n    return x / 0\n\ndef tool(conv):\n    y = 1\n    return helper(y)\n"
    error, line = failing(source)
    assert isinstance(error, ZeroDivisionError) and line == 2
