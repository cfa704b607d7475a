"""sandbox.child.guards: tool code compiled by sandbox.compile.compiler, run in-process with the
globals from make_globals. Every code example of the platform's pages runs here against a
stand-in ``conv`` (the real one belongs to sandbox/child/conv.py and is exercised end to
end by tests/test_seeds.py); hostile code is refused with a clear message naming the
customer's line.

Security tests here never skip.
"""

from __future__ import annotations

import datetime
import importlib.util
import marshal
import sys
import traceback
import types
from collections import Counter, OrderedDict, defaultdict, deque

import pytest

from tests.conftest import seed_source

from sandbox import policy_tables
from sandbox.compile.compiler import compile_tool
from sandbox.guardnames import GUARD_NAMES
from sandbox.child import attributes, entry, guards, toolobjects, views  # noqa: F401 - entry registers the runtime's classes
from sandbox.child.guards import make_globals
from sandbox.policy import DEFAULT_POLICY

# ---------------------------------------------------------------------------------------
# stand-ins and helpers
# ---------------------------------------------------------------------------------------


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
    namespace = make_globals(spec, {"log": log, "Conversation": FakeConv, **(injected or {})}, namespace=module.__dict__)
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


@pytest.fixture(autouse=True)
def voice_module(monkeypatch):
    """polyai.voice comes from sandbox/child/voice.py; stand in if it is not written yet."""
    if importlib.util.find_spec("sandbox.child.voice") is None:
        class CartesiaVoice:
            def __init__(self, *, provider_voice_id):
                self.provider_voice_id = provider_voice_id

        fake = types.ModuleType("sandbox.child.voice")
        fake.VOICE_MODULE_NAMES = {"CartesiaVoice": CartesiaVoice}
        monkeypatch.setitem(sys.modules, "sandbox.child.voice", fake)


# ---------------------------------------------------------------------------------------
# every code example of the platform's pages (shared/seeds), unchanged; bare snippets are
# placed in the body of a function
# ---------------------------------------------------------------------------------------

SEEDS = {
    "000/001 set variables": (
        """
def tool(conv: Conversation):
    conv.state.my_variable = 1
    conv.state.my_other_variable = {
        "property": "value"
    }
""",
        {},
        None,
        {"my_variable": 1, "my_other_variable": {"property": "value"}},
    ),
    "000/001 read a variable later": (
        """
def tool(conv: Conversation):
    if conv.state.my_variable == 10:
        return "Well done you hit 10"
""",
        {"my_variable": 10},
        "Well done you hit 10",
        None,
    ),
    "000/001 built-in state keys": (
        """
def tool(conv: Conversation):
    log.info(f"Caller: {conv.state.from_}, Callee: {conv.state.to}")
    log.info(f"ASR language: {conv.state.asr_lang_code}")
""",
        {"from_": "+1555", "to": "+4412", "asr_lang_code": "en-US"},
        None,
        None,
    ),
    "000/001 prompt templating": (
        seed_source("001_prompt_templating.py"),
        {},
        None,
        {"current_date": datetime.datetime.now().strftime("%B %d, %Y")},
    ),
    "000/001 environment configuration": (
        """
def tool(conv: Conversation):
    if conv.env == "sandbox":
        # enable early feedback flow
        pass
    elif conv.env == "pre-release":
        # activate staging tools
        pass
    elif conv.env == "live":
        # run production features
        pass
""",
        {},
        None,
        None,
    ),
    "000/001 dynamic updates": (
        seed_source("001_dynamic_updates.py"),
        {},
        None,
        {"current_date": "March 22, 1995"},
    ),
    "000/001 deleting a variable": (
        """
def tool(conv: Conversation):
    del conv.state['variable_name']
""",
        {"variable_name": 1, "kept": 2},
        None,
        {"kept": 2},
    ),
    "001 unset reads": (
        """
def tool(conv: Conversation):
    conv.state.foo            # None if never set
    conv.state["foo"]         # None if never set
    conv.state.get("foo")     # None if never set (with optional default)
    return [conv.state.foo, conv.state["foo"], conv.state.get("foo")]
""",
        {},
        [None, None, None],
        None,
    ),
    "001 defaults with or": (
        """
def tool(conv: Conversation):
    attempts = conv.state.verification_attempts or 0
    intent = conv.state.call_intent or "other"
    return [attempts, intent]
""",
        {},
        [0, "other"],
        None,
    ),
    "001 explicit unset check with is None": (
        """
def start_function(conv: Conversation):
    conv.state.booking_time = None   # explicit "not yet collected" marker
    conv.state.customer_id = None

# later, in a flow step
def tool(conv: Conversation):
    if conv.state.booking_time is None:
        return "What time would you like to book?"
""",
        {},
        "What time would you like to book?",
        None,
    ),
    "001 strict check with in": (
        """
def tool(conv: Conversation):
    if "booking_time" in conv.state:
        ...
""",
        {"booking_time": None},
        None,
        None,
    ),
    "002 implementation example": (
        seed_source("002_start_function.py"),
        {},
        "",
        None,
    ),
    "002 empty string": (seed_source("002_return_empty.py"), {}, "", None),
    "002 dynamic greeting": (
        seed_source("002_dynamic_greeting.py"),
        {},
        {"utterance": "Welcome to Main Street. How can I help you today?"},
        None,
    ),
    "002 listen configuration": (
        seed_source("002_listen_config.py"),
        {},
        {"utterance": "Welcome. Please say or enter your account number.", "listen": {"asr": {"timeout": 15}}},
        None,
    ),
    "002 get_secret": (
        """
def tool(conv: Conversation):
    api_key = conv.utils.get_secret("my_api_key")
    return api_key
""",
        {},
        "sk-test-123",
        None,
    ),
    "002 hardcoded map": (
        seed_source("002_hardcoded_map.py"),
        {},
        "",
        None,
    ),
    "002 dynamic variant lookup": (
        seed_source("002_variant_lookup.py"),
        {},
        "",
        None,
    ),
    "002 language voice": (
        seed_source("002_language_voice.py"),
        {},
        "",
        None,
    ),
    "002 channel type": (
        seed_source("002_channel_type.py"),
        {},
        "",
        {"is_voice": True},
    ),
    "003/004 string return": (
        seed_source("004_string_return.py"),
        {},
        "Tell the user that you cannot assist with their request",
        None,
    ),
    "003/004 content": (
        seed_source("004_content.py"),
        {},
        {"content": "Tell the user that you cannot assist with their request"},
        None,
    ),
    "003/004 utterance": (
        seed_source("004_utterance.py"),
        {},
        {"utterance": "I cannot assist with your request."},
        None,
    ),
    "003/004 handoff refer": (
        seed_source("004_handoff_refer.py"),
        {},
        {"handoff": {"type": "CALL_CENTER", "reason": "SPEAK_TO", "refer": {"phone_number": "12345"}}},
        None,
    ),
    "003 handoff invite": (
        seed_source("003_handoff_invite.py"),
        {},
        {
            "handoff": {
                "invite": {
                    "phone_number": "<eg: 2222222>",
                    "outbound_caller_id": "+15551230000",
                    "outbound_endpoint": "<ADD_YOUR_OUTBOUND_ENDPOINT_NAME>",
                    "sip_headers": {"X-ANY_HEADER_NAME": "header"},
                }
            }
        },
        None,
    ),
    "003/004 hangup": (seed_source("004_hangup.py"), {}, {"hangup": True}, None),
    "003 listen": (
        seed_source("003_listen_dtmf_asr.py"),
        {},
        {"listen": {"channel": "SPEECH_AND_DTMF", "dtmf": {"finish_on_key": "#", "timeout": 15, "num_digits": 5}, "asr": {"timeout": 20}}},
        None,
    ),
    "004 listen": (
        seed_source("004_listen_asr.py"),
        {},
        {"utterance": "Can I help you with anything else?", "listen": {"asr": {"timeout": 20}}},
        None,
    ),
    "004 listen with DTMF": (
        seed_source("004_listen_dtmf.py"),
        {},
        {
            "utterance": "Please enter your 6-digit code followed by the hash key.",
            "listen": {
                "channel": "SPEECH_AND_DTMF",
                "dtmf": {"num_digits": 6, "finish_on_key": "#", "first_digit_timeout": 5, "inter_digit_timeout": 2, "is_pii": True},
            },
        },
        None,
    ),
    "003/004 variant": ('\ndef tool(conv: Conversation):\n    return {\n      "variant": "orleans"\n    }\n', {}, {"variant": "orleans"}, None),
    "004 variant and utterance": (
        seed_source("004_variant_utterance.py"),
        {},
        {"utterance": "Let me connect you with the Orleans location.", "variant": "orleans"},
        None,
    ),
    "004 utterance and handoff": (
        seed_source("004_utterance_handoff.py"),
        {},
        {
            "utterance": "Let me transfer you to a specialist who can help with that.",
            "handoff": {"type": "CALL_CENTER", "reason": "SPEAK_TO", "refer": {"phone_number": "12345"}},
        },
        None,
    ),
    "004 utterance and hangup": (
        seed_source("004_utterance_hangup.py"),
        {},
        {"utterance": "Thanks for calling, have a great day!", "hangup": True},
        None,
    ),
    "004 utterance and content": (
        seed_source("004_utterance_content.py"),
        {},
        {
            "utterance": "I've updated your reservation.",
            "content": "The reservation has been changed. Ask if there's anything else you can help with.",
        },
        None,
    ),
}


def _entry_point(source):
    for name in ("tool", "start_function", "set_fake_date"):
        if f"def {name}(" in source:
            return name
    raise AssertionError("no entry point")


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_example_runs(name):
    source, state, expected_return, expected_state = SEEDS[name]
    conv = FakeConv(state)
    result, conv, log = call(source, _entry_point(source), conv=conv)
    assert result == expected_return
    if expected_state is not None:
        for key, value in expected_state.items():
            assert conv.state[key] == value
    if name == "000/001 deleting a variable":
        assert "variable_name" not in conv.state
    if name == "000/001 built-in state keys":
        assert log.records == [("info", "Caller: +1555, Callee: +4412"), ("info", "ASR language: en-US")]


def test_seed_effects():
    _, conv, _ = call(SEEDS["002 implementation example"][0], "start_function")
    assert conv._effects == {"variant": "london"}
    assert conv.state["phone_number"] == "+15551230000" and conv.state["shared_id"] == "SH-42"
    assert conv.state["is_voice"] is True and conv.state["available_times"] is None
    _, conv, _ = call(SEEDS["002 language voice"][0], "start_function")
    voice = conv._effects["voice"]
    assert type(voice).__name__ == "CartesiaVoice"
    _, conv, _ = call(SEEDS["002 dynamic variant lookup"][0], "start_function")
    assert conv._effects == {"variant": "london"}
    _, conv, _ = call(SEEDS["002 hardcoded map"][0], "start_function")
    assert conv._effects == {"variant": "London"}


# ---------------------------------------------------------------------------------------
# refused at run time, with a clear message and the customer's line
# ---------------------------------------------------------------------------------------

RUNTIME_REFUSED = {
    # name: (source, line, exception type, words in the message)
    "datetime.sys": ("import datetime\n\ndef tool(conv):\n    return datetime.sys\n", 4, AttributeError, "module 'datetime' has no attribute 'sys'"),
    "json.codecs": ("import json\n\ndef tool(conv):\n    x = 1\n    return json.codecs.builtins\n", 5, AttributeError, "module 'json' has no attribute 'codecs'"),
    "json.decoder": ("import json\ndef tool(conv):\n    return json.decoder\n", 3, AttributeError, "no attribute 'decoder'"),
    "string.Formatter": ("import string\ndef tool(conv):\n    return string.Formatter\n", 3, AttributeError, "no attribute 'Formatter'"),
    "re.enum": ("import re\ndef tool(conv):\n    return re.enum\n", 3, AttributeError, "no attribute 'enum'"),
    "urllib.request through the package view": ("import urllib.parse\ndef tool(conv):\n    return urllib.request\n", 3, AttributeError, "no attribute 'request'"),
    "write to a read-only object": ("def tool(conv):\n    conv.env = 'live'\n", 2, TypeError, "read-only"),
    "delete from a read-only object": ("def tool(conv):\n    del conv.utils\n", 2, TypeError, "read-only"),
    "write to a module view": ("import json\ndef tool(conv):\n    json.dumps = len\n", 3, TypeError, "read-only"),
    "delete from a module view": ("import json\ndef tool(conv):\n    del json.loads\n", 3, TypeError, "read-only"),
    "write to a tuple": ("def tool(conv):\n    t = (1, 2)\n    t[0] = 3\n", 3, TypeError, "read-only"),
    "write to a runtime class": ("def tool(conv):\n    type(conv).extra = 1\n", 2, TypeError, "read-only"),
    "write to a builtin function": ("def tool(conv):\n    len.extra = 1\n", 2, TypeError, "read-only"),
    "generator internals": ("def tool(conv):\n    g = (i for i in [1])\n    return g.gi_yieldfrom\n", None, None, None),
    "generator code by getattr": ("def tool(conv):\n    g = (i for i in [1])\n    return getattr(g, 'gi_' + 'code')\n", 3, AttributeError, "'gi_code' is not available"),
    "base with a custom metaclass": ("from typing import Any\nclass A(Any):\n    pass\n", 2, TypeError, "metaclass"),
    "print to a file": ("def tool(conv):\n    print('x', file=conv)\n", 2, TypeError, "print(file=...) is not supported"),
    "missing attribute": ("def tool(conv):\n    return conv.nothing_here\n", 2, AttributeError, "'FakeConv' object has no attribute 'nothing_here'"),
    "private attribute of a runtime object": ("def tool(conv):\n    return conv.state._data\n", 2, AttributeError,
                                              "readable only on the tool's own classes and objects"),
    "private attribute by getattr": ("def tool(conv):\n    return getattr(conv.state, '_da' + 'ta')\n", 2, AttributeError,
                                     "readable only on the tool's own classes and objects"),
    "private attribute by a format field": ("def tool(conv):\n    return '{0.state._data}'.format(conv)\n", 2, AttributeError,
                                            "readable only on the tool's own classes and objects"),
    "a door by a format field": ("def tool(conv):\n    return '{0.__init__.__globals__}'.format(tool)\n", 2, AttributeError,
                                 "'__globals__' is not available"),
    "a door nested in a format spec": ("def tool(conv):\n    return '{0:{1.__globals__}}'.format(1, tool)\n", 2, AttributeError,
                                       "'__globals__' is not available"),
    "str.format unbound": ("def tool(conv):\n    f = str.format\n    return f('{0.gi_frame}', (i for i in []))\n", 3, AttributeError,
                           "'gi_frame' is not available"),
    "format_map": ("def tool(conv):\n    return '{x.__globals__}'.format_map({'x': tool})\n", 2, AttributeError, "'__globals__'"),
    "a class's metaclass": ("def tool(conv):\n    return int.__class__\n", 2, AttributeError, "metaclass"),
    "type with three arguments": ("def tool(conv):\n    return type('X', (), {})\n", 2, TypeError, "type() takes one argument"),
    "object.__setattr__ on a runtime object": (
        "def tool(conv):\n    object.__setattr__(conv.state, '_data', {})\n", 2, TypeError, "applies only to the tool's own objects"),
    "__init__ of a runtime class on its object": (
        "def tool(conv):\n    type(conv.state).__init__(conv.state, {'x': 1})\n", 2, TypeError, "applies only to the tool's own objects"),
    "object.__new__ of a runtime class": ("def tool(conv):\n    return object.__new__(type(conv))\n", 2, TypeError,
                                          "applies only to the tool's own objects"),
    "bound __init__ of a runtime object": ("def tool(conv):\n    conv.state.__init__({})\n", 2, AttributeError,
                                           "applies only to the tool's own objects"),
    "vars of a runtime object": ("def tool(conv):\n    return vars(conv)\n", 2, TypeError, "vars() argument must be one of the tool's own objects"),
    "setattr of a private runtime name": ("class A:\n    pass\ndef tool(conv):\n    setattr(conv.state, '_data', 1)\n", 4, AttributeError,
                                          "belong to the class that defined them"),
    "setting a dunder": ("class A:\n    pass\ndef tool(conv):\n    setattr(A, '__del__', len)\n", 4, AttributeError, "setting '__del__' is not allowed"),
    "subclassing super": ("class S(super):\n    pass\n", 1, TypeError, "cannot subclass 'super'"),
    "a metaclass as base": ("class M(type(int)):\n    pass\n", 1, TypeError, "cannot subclass 'type'"),
    "super() reaching a runtime private": (
        "def tool(conv):\n    class T(type(conv.state)):\n        def peek(self):\n            return super()._data\n"
        "    return T().peek()\n", 4, AttributeError, "readable only on the tool's own"),
    "mro by getattr": ("def tool(conv):\n    return getattr(int, 'm' + 'ro')()\n", 2, AttributeError, "'mro' is not available"),
    "AttributeError.obj": ("def tool(conv):\n    try:\n        conv.nope\n    except AttributeError as e:\n        return e.obj\n", 5,
                           AttributeError, "AttributeError.obj is not available"),
    "property fget": ("def tool(conv):\n    return type(conv).variant.fget(conv)\n", 2, AttributeError, "property.fget is not available"),
    "register on a standard ABC": ("import collections.abc\nclass A:\n    pass\ndef tool(conv):\n    collections.abc.Mapping.register(A)\n",
                                   5, AttributeError, "register() is available only on the tool's own ABCs"),
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
""".replace("    getcontext().traps[Decimal.__class__ is type and __import__ if False else 0] = False if False else None\n", ""),
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
    [(), "s", 1, frozenset(), set(), _RuntimeThing(), _RuntimeThing, FakeConv(), type("D", (dict,), {})(),
     views.build_view("json", ["dumps"]), len, sys],
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
    "from logging import FileHandler": (("logging", None, None, ("FileHandler",)), {}, "cannot import name 'FileHandler'"),
    "from zoneinfo import reset_tzpath": (("zoneinfo", None, None, ("reset_tzpath",)), {}, "cannot import name 'reset_tzpath'"),
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

    text = open(rp.__file__).read()
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


@pytest.mark.parametrize("injected", [{}, {"log": FakeLog(), "_getattr_": len}, {"log": FakeLog(), "__builtins__": {}}, {"log": FakeLog(), "not an identifier": 1}, ["log"]])
def test_make_globals_refuses_bad_injected(injected):
    with pytest.raises(ValueError):
        make_globals(SPEC, injected)


def test_runtime_errors_point_at_the_customer_line():
    source = "def helper(x):\n    return x / 0\n\ndef tool(conv):\n    y = 1\n    return helper(y)\n"
    error, line = failing(source)
    assert isinstance(error, ZeroDivisionError) and line == 2


# ---------------------------------------------------------------------------------------
# the escape corpus: classic sandbox escapes, each with the layer that must stop it
# ("compile": sandbox.compile.compiler refuses it; "run": a guard or a view refuses it)
# ---------------------------------------------------------------------------------------

ESCAPES = {
    "subclasses walk": ("compile", "def tool(conv):\n    return ().__class__.__bases__[0].__subclasses__()\n"),
    "subclasses walk by getattr": ("run", "def tool(conv):\n    return getattr(getattr((), '__class__'), '__ba' + 'ses__')\n"),
    "function globals": ("compile", "def tool(conv):\n    return tool.__globals__['__builtins__']\n"),
    "function globals by getattr": ("run", "def tool(conv):\n    return getattr(tool, '__glob' + 'als__')\n"),
    "generator frame (CVE-2023-37271)": ("compile", "def tool(conv):\n    return (x for x in [1]).gi_frame.f_back.f_globals\n"),
    "format walk (CVE-2023-41039)": ("run", "def tool(conv):\n    return '{0.__init__.__globals__}'.format(conv)\n"),
    "format through the class": ("run", "def tool(conv):\n    f = str.format\n    return f('{0.__init__.__globals__}', tool)\n"),
    "format_map": ("run", "def tool(conv):\n    return '{x.__init__.__globals__}'.format_map({'x': tool})\n"),
    "format field without an underscore": ("run", "def tool(conv):\n    return '{0.gi_frame.f_globals}'.format(x for x in [1])\n"),
    "traceback frame": ("compile", "def tool(conv):\n    try:\n        1/0\n    except Exception as e:\n        return e.__traceback__.tb_frame\n"),
    "AttributeError.obj (CVE-2024-47532)": ("run", "def tool(conv):\n    try:\n        conv.nope\n    except AttributeError as e:\n        return e.obj\n"),
    "datetime.sys": ("run", "import datetime\ndef tool(conv):\n    return datetime.sys.modules['os']\n"),
    "json.codecs.builtins": ("run", "import json\ndef tool(conv):\n    return json.codecs.builtins.eval\n"),
    "json.decoder module": ("compile", "from json import decoder\n"),
    "string.Formatter (CVE-2026-76825)": ("run", "import string\ndef tool(conv):\n    return string.Formatter().get_field('0.__class__', [1], {})\n"),
    "typing origin walk": ("compile", "import typing\ndef tool(conv):\n    return typing.List.__origin__.__subclasses__\n"),
    "getattr of a runtime private": ("run", "def tool(conv):\n    return getattr(conv, '_state')\n"),
    "vars of a runtime object": ("run", "def tool(conv):\n    return vars(conv)\n"),
    "__import__": ("compile", "def tool(conv):\n    return __import__('os').system\n"),
    "__builtins__": ("compile", "def tool(conv):\n    return __builtins__\n"),
    "exec": ("compile", "def tool(conv):\n    exec('import os')\n"),
    "eval of built text": ("compile", "def tool(conv):\n    return eval(chr(95) * 2 + 'import' + chr(95) * 2)\n"),
    "mro": ("compile", "def tool(conv):\n    return int.mro()[1]\n"),
    "type with three arguments": ("run", "def tool(conv):\n    return type('X', (), {})\n"),
    "type of type with three arguments": ("run", "def tool(conv):\n    return type(type(int))('X', (), {})\n"),
    "metaclass": ("run", "class M(type(int)):\n    pass\ndef tool(conv):\n    pass\n"),
    "super() to object's internals": ("compile", "class A:\n    def go(self):\n        return super().__getattribute__\ndef tool(conv):\n    return A().go()\n"),
    "super(RuntimeClass, runtime object).__setattr__": (
        "run", "def tool(conv):\n    super(type(conv.state), conv.state).__setattr__('_data', {})\n"),
    "try/except* (CVE-2025-22153)": ("compile", "def tool(conv):\n    try:\n        raise ValueError\n    except* ValueError as eg:\n        return eg\n"),
    "print to an object with write": ("run", "class W:\n    def write(self, s):\n        pass\ndef tool(conv):\n    print('x', file=W())\n"),
    "property getter": ("run", "def tool(conv):\n    return type(conv).variant.fget(conv)\n"),
    "module view __dict__": ("run", "import json\ndef tool(conv):\n    return json.__dict__\n"),
    "module view replaced member": ("run", "import json\ndef tool(conv):\n    json.loads = len\n"),
    "copy of a runtime object": ("run", "import copy, json\ndef tool(conv):\n    return copy.copy(json)\n"),
    "attrgetter to a door": ("run", "from operator import attrgetter\ndef tool(conv):\n    return attrgetter('__init__.__globals__')(tool)\n"),
    "attrgetter to a runtime private": ("run", "from operator import attrgetter\ndef tool(conv):\n    return attrgetter('state._data')(conv)\n"),
    "methodcaller of a door": ("run", "from operator import methodcaller\ndef tool(conv):\n    return methodcaller('__reduce_ex__', 2)(conv)\n"),
    "wraps copying __code__": ("run", "import functools\ndef a():\n    pass\ndef tool(conv):\n    return functools.wraps(a, assigned=('__code__',))(tool)\n"),
    "update_wrapper onto a runtime function": ("run", "import functools, json\ndef tool(conv):\n    functools.update_wrapper(json.dumps, tool)\n"),
    "total_ordering on a runtime class": ("run", "import functools\ndef tool(conv):\n    functools.total_ordering(type(conv))\n"),
    "re.enum.sys": ("run", "import re\ndef tool(conv):\n    return re.enum.sys\n"),
    "urllib.request": ("run", "import urllib.parse\ndef tool(conv):\n    return urllib.request.urlopen\n"),
    "match value pattern reading a door": ("compile", "def tool(conv):\n    match conv:\n        case tool.__globals__:\n            return 1\n"),
    "async": ("compile", "async def tool(conv):\n    pass\n"),
    "write through a starred target": ("run", "def tool(conv):\n    a, *conv.env = [1, 2]\n"),
    "importing the runtime": ("compile", "import sandbox.child.guards\n"),
    "__del__ set after the class is built": ("run", "class A:\n    pass\ndef tool(conv):\n    setattr(A, '__del__', lambda self: None)\n"),
    "ABCMeta called directly": ("run", "from abc import ABCMeta\ndef tool(conv):\n    return ABCMeta('X', (), {'__del__': lambda s: 1})\n"),
    "make_dataclass with a hook": ("run", "import dataclasses\ndef tool(conv):\n    return dataclasses.make_dataclass('X', [], namespace={'__del__': len})\n"),
    "namedtuple with a module": ("run", "import collections\ndef tool(conv):\n    return collections.namedtuple('P', 'x', module='sandbox')\n"),
}


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_escape_is_stopped_by_its_layer(name):
    layer, source = ESCAPES[name]
    from sandbox.compile.compiler import CompileErrors

    if layer == "compile":
        with pytest.raises(CompileErrors):
            compile_tool(source)
        return
    namespace, _ = load(source) if "class M(" not in source else (None, None)
    if namespace is None:
        with pytest.raises(TypeError):
            load(source)
        return
    error, line = failing(source)
    assert isinstance(error, (AttributeError, TypeError, ImportError)), repr(error)
    assert line is not None
