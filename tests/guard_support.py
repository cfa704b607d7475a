"""Stand-ins and helpers for the guard tests (tests/test_guards.py, test_guards_seeds.py,
test_guards_ordinary.py, test_make_globals.py): a ``conv`` and a ``log`` as the platform's
pages describe them, and ``load``/``call``/``failing``, which compile a tool with
sandbox.compile.compiler and run it in this process with the globals from make_globals.

The real ``conv`` belongs to sandbox/child/conv.py and is exercised end to end by
tests/test_seeds.py.
"""

from __future__ import annotations

import marshal
import sys
import traceback
import types

import pytest

from sandbox.child import attributes, entry, guards, toolobjects, views  # noqa: F401 - entry registers the runtime's classes
from sandbox.child.guards import make_globals
from sandbox.compile.compiler import compile_tool
from sandbox.guardnames import GUARD_NAMES
from sandbox.policy import DEFAULT_POLICY

SPEC = DEFAULT_POLICY.child_spec


class FakeLog:
    def __init__(self):
        self.records: list[tuple[str, str]] = []

    def debug(self, message):
        self.records.append(("debug", str(message)))

    def info(self, message):
        self.records.append(("info", str(message)))

    def warning(self, message):
        self.records.append(("warning", str(message)))

    def error(self, message):
        self.records.append(("error", str(message)))


class FakeState:
    """conv.state as the docs describe it: unset reads are None; attribute and item access."""

    __slots__ = ("_data",)

    def __init__(self, data=None):
        object.__setattr__(self, "_data", dict(data or {}))

    def get(self, key, default=None):
        return self._data.get(key, default)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._data.get(name)

    def __setattr__(self, name, value):
        self._data[name] = value

    def __delattr__(self, name):
        self._data.pop(name, None)

    def __getitem__(self, key):
        return self._data.get(key)

    def __setitem__(self, key, value):
        self._data[key] = value

    def __delitem__(self, key):
        self._data.pop(key, None)

    def __contains__(self, key):
        return key in self._data


attributes.register_writable(FakeState)  # as sandbox/child/conv.py registers State


class FakeVariant:
    def __init__(self, **columns):
        self._columns = columns

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._columns.get(name)


class FakeUtils:
    def get_secret(self, name):
        return {"my_api_key": "sk-test-123"}[name]


class FakeConv:
    """Read-only except for ``state``: not registered writable."""

    def __init__(self, state=None, **fields):
        self.state = FakeState(state)
        self.env = fields.get("env", "sandbox")
        self.channel_type = fields.get("channel_type", "sip.polyai")
        self.caller_number = fields.get("caller_number", "+15551230000")
        self.callee_number = fields.get("callee_number", "+441234567890")
        self.sip_headers = fields.get("sip_headers", {"X-Language": "es"})
        self.integration_attributes = fields.get("integration_attributes", {"shared_id": "SH-42"})
        self.variants = {
            "london": FakeVariant(site_name="London Bridge", callee="+441234567890"),
            "new_york": FakeVariant(site_name="Fifth Avenue", callee="+442345678901"),
            "default": FakeVariant(site_name="Main Street", callee="+15550000000"),
        }
        self._variant_name = "default"
        self.utils = FakeUtils()
        self._effects = {}

    @property
    def variant(self):
        return self.variants.get(self._variant_name)

    def set_variant(self, name):
        self._variant_name = name
        self._effects["variant"] = name

    def set_voice(self, voice):
        self._effects["voice"] = voice

    def call_handoff(self, destination=None, reason=None, utterance=None):
        self._effects["handoff"] = (destination, reason, utterance)


GETATTR = GUARD_NAMES["_getattr_"]
WRITE = GUARD_NAMES["_write_"]


def load(source, injected=None, spec=SPEC, filename="tool.py"):
    """Compile ``source`` and execute the module, registered in sys.modules under its name as
    the child's runtime registers it (sandbox/child/entry.py); returns (namespace, log)."""
    log = FakeLog()
    module = types.ModuleType("tool")
    namespace = make_globals(
        spec, {"log": log, "Conversation": FakeConv, **(injected or {})}, namespace=module.__dict__
    )
    sys.modules["tool"] = module
    exec(marshal.loads(compile_tool(source, filename).code), namespace)
    return namespace, log


def call(source, function="tool", *args, conv=None, **kwargs):
    """Run one tool function; returns (result, conv, log)."""
    namespace, log = load(source)
    conv = conv if conv is not None else FakeConv()
    return namespace[function](conv, *args, **kwargs), conv, log


def failing(source, function="tool", conv=None):
    """Run a tool expected to fail; returns (exception, the innermost tool.py line)."""
    namespace, _ = load(source)
    with pytest.raises(Exception) as info:
        namespace[function](conv if conv is not None else FakeConv())
    frames = [f for f in traceback.extract_tb(info.value.__traceback__) if f.filename == "tool.py"]
    return info.value, (frames[-1].lineno if frames else None)
