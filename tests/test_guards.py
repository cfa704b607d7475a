"""sandbox.inside.guards: tool code compiled by sandbox.compiler, run in-process with the
globals from make_globals. Every code example of the platform's pages runs here against a
stand-in ``conv`` (the real one belongs to sandbox/inside/conv.py and is exercised end to
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

from sandbox.compiler import compile_tool
from sandbox.inside import guards, views
from sandbox.inside.guards import ALWAYS_FORBIDDEN, GUARD_NAMES, make_globals
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

    _toolpool_writable = True
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
    """Read-only except for ``state``: no ``_toolpool_writable`` here."""

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


def load(source, injected=None, spec=SPEC, filename="tool.py"):
    """Compile ``source`` and execute the module; returns (namespace, log)."""
    log = FakeLog()
    namespace = make_globals(spec, {"log": log, "Conversation": FakeConv, **(injected or {})})
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
    """polyai.voice comes from sandbox/inside/voice.py; stand in if it is not written yet."""
    if importlib.util.find_spec("sandbox.inside.voice") is None:
        class CartesiaVoice:
            def __init__(self, *, provider_voice_id):
                self.provider_voice_id = provider_voice_id

        fake = types.ModuleType("sandbox.inside.voice")
        fake.VOICE_MODULE_NAMES = {"CartesiaVoice": CartesiaVoice}
        monkeypatch.setitem(sys.modules, "sandbox.inside.voice", fake)


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
    "random's hidden instance": ("import random\ndef tool(conv):\n    return random.choice.__self__\n", None, None, None),
    "re.enum": ("import re\ndef tool(conv):\n    return re.enum\n", 3, AttributeError, "no attribute 'enum'"),
    "urllib.request through the package view": ("import urllib.parse\ndef tool(conv):\n    return urllib.request\n", 3, AttributeError, "no attribute 'request'"),
    "write to a read-only object": ("def tool(conv):\n    conv.env = 'live'\n", 2, TypeError, "read-only"),
    "delete from a read-only object": ("def tool(conv):\n    del conv.utils\n", 2, TypeError, "read-only"),
    "write to a module view": ("import json\ndef tool(conv):\n    json.dumps = len\n", 3, TypeError, "read-only"),
    "delete from a module view": ("import json\ndef tool(conv):\n    del json.loads\n", 3, TypeError, "read-only"),
    "write to a tuple": ("def tool(conv):\n    t = (1, 2)\n    t[0] = 3\n", 3, TypeError, "read-only"),
    "write to a function": ("def helper():\n    pass\ndef tool(conv):\n    helper.secret = 1\n", 4, TypeError, "read-only"),
    "write to a class": ("class A:\n    pass\ndef tool(conv):\n    A.x = 1\n", 4, TypeError, "read-only"),
    "generator internals": ("def tool(conv):\n    g = (i for i in [1])\n    return g.gi_running\n", 3, AttributeError, "of a generator is not available"),
    "base with a custom metaclass": ("from typing import Any\nclass A(Any):\n    pass\n", 2, TypeError, "custom metaclass"),
    "print to a file": ("def tool(conv):\n    print('x', file=conv)\n", 2, TypeError, "print(file=...) is not supported"),
    "missing attribute": ("def tool(conv):\n    return conv.nothing_here\n", 2, AttributeError, "'FakeConv' object has no attribute 'nothing_here'"),
    "decimal context write": ("import decimal\ndef tool(conv):\n    decimal.getcontext().prec = 5\n", 3, TypeError, "read-only"),
}


@pytest.mark.parametrize("name", sorted(RUNTIME_REFUSED))
def test_refused_at_run_time(name):
    source, line, kind, words = RUNTIME_REFUSED[name]
    if kind is None:  # refused at compile time already
        with pytest.raises(Exception):
            load(source)
        return
    if name.startswith("base with"):
        with pytest.raises(kind) as info:
            load(source)
        frames = [f for f in traceback.extract_tb(info.value.__traceback__) if f.filename == "tool.py"]
        error, error_line = info.value, frames[-1].lineno
    else:
        error, error_line = failing(source)
    assert isinstance(error, kind), repr(error)
    assert words in str(error)
    assert error_line == line


def test_attribute_errors_carry_no_objects():
    # CVE-2024-47532: AttributeError.obj would hand the tool the object whose lookup failed.
    source = (
        "import json\n"
        "def tool(conv):\n"
        "    caught = []\n"
        "    for attempt in (lambda: conv.nothing, lambda: json.codecs, lambda: conv.state._data):\n"
        "        try:\n"
        "            attempt()\n"
        "        except AttributeError as error:\n"
        "            caught.append(error)\n"
        "    return caught\n"
    )
    with pytest.raises(Exception):
        compile_tool(source)  # conv.state._data: refused at compile time
    source = source.replace(", lambda: conv.state._data", "")
    caught, _, _ = call(source)
    assert len(caught) == 2
    for error in caught:
        assert error.obj is None and error.name is None
        assert error.__context__ is None and error.__cause__ is None


def test_attribute_error_from_a_view_carries_no_module():
    namespace, _ = load("import datetime\n")
    with pytest.raises(AttributeError) as info:
        namespace["_getattr_"](namespace["datetime"], "sys")
    assert info.value.obj is None and info.value.__context__ is None


# ---------------------------------------------------------------------------------------
# the getattr guard, called directly (as if the compile-time layer had been broken)
# ---------------------------------------------------------------------------------------


def _generator():
    yield 1


GETATTR_REFUSED = {
    "underscore name": (1, "__class__", "names starting with '_'"),
    "str.format": ("{0.__class__}", "format", "'format' is not allowed"),
    "str.format on the class": (str, "format", "'format' is not allowed"),
    "str.format_map": ("{a}", "format_map", "'format_map' is not allowed"),
    "type.mro": (int, "mro", "'mro' is not allowed"),
    "AttributeError.obj": (AttributeError("x"), "obj", "'obj' is not allowed"),
    "generator gi_frame": (_generator(), "gi_frame", "'gi_frame' is not allowed"),
    "generator gi_running": (_generator(), "gi_running", "of a generator is not available"),
    "frame": (sys._getframe(), "f_lineno", "frame objects"),
    "frame f_back": (sys._getframe(), "f_back", "'f_back' is not allowed"),
    "code": (_generator.__code__, "co_name", "code objects"),
    "traceback": (None, "tb_lineno", "traceback objects"),
    "real module": (sys, "modules", "module objects"),
    "real json module": (__import__("json"), "dumps", "module objects"),
    "cell": (types.CellType(1), "cell_contents", "'cell_contents' is not allowed"),
    "property setter": (property(lambda self: 1), "fset", "'fset' is not allowed"),
    "property getter": (property(lambda self: 1), "fget", "'fget' is not allowed"),
    "format on anything": (datetime.date(2020, 1, 1), "format", "'format' is not allowed"),
}


@pytest.mark.parametrize("name", sorted(GETATTR_REFUSED))
def test_getattr_guard_refuses(name):
    obj, attribute, words = GETATTR_REFUSED[name]
    if name == "traceback":
        try:
            raise ValueError
        except ValueError as exc:
            obj = exc.__traceback__
    guard = make_globals(SPEC, {"log": FakeLog()})["_getattr_"]
    with pytest.raises(AttributeError) as info:
        guard(obj, attribute)
    assert words in str(info.value)
    assert info.value.obj is None and info.value.name is None and info.value.__context__ is None


def test_getattr_guard_floor_survives_an_empty_forbidden_list():
    spec = {**SPEC, "forbidden": []}
    guard = make_globals(spec, {"log": FakeLog()})["_getattr_"]
    for name in sorted(ALWAYS_FORBIDDEN):
        with pytest.raises(AttributeError):
            guard("text", name)


def test_getattr_guard_allows_ordinary_reads():
    guard = make_globals(SPEC, {"log": FakeLog()})["_getattr_"]
    assert guard("a b", "split")() == ["a", "b"]
    assert guard(_generator(), "send") is not None
    assert guard(datetime.date(2020, 1, 2), "day") == 2
    with pytest.raises(TypeError):
        guard("x", b"split")


# ---------------------------------------------------------------------------------------
# the write guard
# ---------------------------------------------------------------------------------------


class Writable:
    _toolpool_writable = True


class WritableChild(Writable):
    pass


class NotWritable:
    _toolpool_writable = False


class Liar(type):
    def __getattr__(cls, name):
        return True  # claims every attribute, including the flag


class LiarClass(metaclass=Liar):
    pass


@pytest.mark.parametrize(
    "obj",
    [{}, [], OrderedDict(), defaultdict(int), Counter(), deque(), Writable(), WritableChild(), FakeState()],
)
def test_write_guard_allows(obj):
    assert guards.guarded_write(obj) is obj


@pytest.mark.parametrize(
    "obj",
    [(), "s", 1, frozenset(), set(), NotWritable(), LiarClass(), Writable, FakeConv(), type("D", (dict,), {})(),
     views.build_view("json", ["dumps"]), len, sys],
)
def test_write_guard_refuses(obj):
    with pytest.raises(TypeError) as info:
        guards.guarded_write(obj)
    assert "read-only" in str(info.value)


# ---------------------------------------------------------------------------------------
# classes, unpacking, calls, in-place operators, print
# ---------------------------------------------------------------------------------------


def test_small_classes_work_and_are_marked_writable():
    source = """
class BookingError(Exception):
    pass

class Slot(object):
    def __init__(self, hour):
        self.hour = hour
        self.taken = False

    @property
    def label(self):
        return f"{self.hour}:00"

    @staticmethod
    def parse(text):
        return Slot(int(text))

    def __eq__(self, other):
        return isinstance(other, Slot) and other.hour == self.hour

def tool(conv):
    slot = Slot.parse("9")
    slot.taken = True
    try:
        raise BookingError("full")
    except BookingError as error:
        message = str(error)
    return slot.label, slot.taken, message, Slot(9) == slot
"""
    result, _, _ = call(source)
    assert result == ("9:00", True, "full", True)
    namespace, _ = load(source)
    assert namespace["Slot"].__module__ == "tool"
    assert namespace["Slot"].__dict__["_toolpool_writable"] is True


def test_class_guard_refuses_keywords_and_metaclasses():
    with pytest.raises(TypeError):
        guards.build_tool_class("A", (), {}, total=False)
    with pytest.raises(TypeError) as info:
        guards.build_tool_class("Meta", (type,), {})  # `type` is not a tool builtin; as if it leaked
    assert "custom metaclass" in str(info.value)
    with pytest.raises(TypeError):
        guards.build_tool_class("A", (LiarClass,), {})
    with pytest.raises(TypeError):
        guards.build_tool_class("A", (1,), {})


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
    return printed
"""
    result, _, log = call(source)
    assert log.records == [("info", "hello sandbox"), ("info", "a-b!"), ("info", "")]
    assert result == "hello sandbox\na-b!\n"


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
from __future__ import annotations
from collections import Counter
import json, math

def tool(conv):
    return (dt.date(2020, 1, 2).isoformat(), urllib.parse.quote("a b"), up.quote("c d"), parse.quote("e"),
            type_name(CartesiaVoice), polyai.voice.CartesiaVoice is CartesiaVoice, Counter("aab")["a"],
            json.loads("[1]"), math.floor(1.5))
"""
    source = source.replace("from __future__ import annotations\n", "")
    namespace, _ = load(source, injected={"type_name": lambda cls: cls.__name__})
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
    "from datetime import sys": (("datetime", None, None, ("sys",)), {}, "cannot import name 'sys' from 'datetime'"),
    "from json import decoder": (("json", None, None, ("decoder",)), {}, "cannot import name 'decoder'"),
    "from string import Formatter": (("string", None, None, ("Formatter",)), {}, "cannot import name 'Formatter'"),
    "star": (("math", None, None, ("*",)), {}, "cannot import name '*'"),
    "relative": (("helpers", None, None, ("x",), 1), {}, "relative imports are not allowed"),
    "non-str name": ((b"json",), {}, "import of 'bytes' is not allowed"),
    "polyai alone": (("polyai", None, None, ("other",)), {}, "cannot import name 'other' from 'polyai'"),
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
    expected = {"__builtins__", "__name__", "__metaclass__", "log", "Conversation", *GUARD_NAMES}
    assert set(namespace) == expected
    assert namespace["__name__"] == "tool"
    assert namespace["log"] is log
    assert set(namespace["__builtins__"]) == set(SPEC["builtins"]) | {"__import__"}
    assert namespace["__builtins__"]["print"] is not print
    assert namespace["__builtins__"]["__import__"] is not __import__


def test_every_guard_the_transformer_emits_is_provided():
    import RestrictedPython.transformer as rp

    text = open(rp.__file__).read()
    import re

    emitted = set(re.findall(r"ast\.Name\(\s*['\"](_[a-z_]+_)['\"]", text))
    assert emitted <= set(GUARD_NAMES)


def test_make_globals_without_classes():
    spec = {**SPEC, "builtins": [b for b in SPEC["builtins"] if b != "__build_class__"]}
    namespace = make_globals(spec, {"log": FakeLog()})
    assert "__metaclass__" not in namespace and "__build_class__" not in namespace["__builtins__"]


def test_make_globals_is_fresh_each_time():
    one = make_globals(SPEC, {"log": FakeLog()})
    two = make_globals(SPEC, {"log": FakeLog()})
    assert one["__builtins__"] is not two["__builtins__"]
    assert one["_getattr_"] is not two["_getattr_"]
    one["__builtins__"]["len"] = None
    assert two["__builtins__"]["len"] is len


@pytest.mark.parametrize(
    "spec",
    [
        {**SPEC, "builtins": SPEC["builtins"] + ["eval"]},
        {**SPEC, "builtins": SPEC["builtins"] + ["__import__"]},
        {**SPEC, "builtins": SPEC["builtins"] + ["getattr"]},
        {**SPEC, "builtins": SPEC["builtins"] + ["no_such_builtin"]},
        {**SPEC, "modules": {**SPEC["modules"], "os": ["system"]}},
        {**SPEC, "modules": {**SPEC["modules"], "importlib.util": ["find_spec"]}},
        {**SPEC, "modules": {**SPEC["modules"], "sandbox.inside.guards": ["make_globals"]}},
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
# ("compile": sandbox.compiler refuses it; "run": a guard or a view refuses it)
# ---------------------------------------------------------------------------------------

ESCAPES = {
    "subclasses walk": ("compile", "def tool(conv):\n    return ().__class__.__bases__[0].__subclasses__()\n"),
    "function globals": ("compile", "def tool(conv):\n    return tool.__globals__['__builtins__']\n"),
    "generator frame (CVE-2023-37271)": ("compile", "def tool(conv):\n    return (x for x in [1]).gi_frame.f_back.f_globals\n"),
    "format walk (CVE-2023-41039)": ("compile", "def tool(conv):\n    return '{0.__init__.__globals__}'.format(conv)\n"),
    "format through the class": ("compile", "def tool(conv):\n    f = str.format\n    return f('{0.__class__}', 1)\n"),
    "format_map": ("compile", "def tool(conv):\n    return '{x.__class__}'.format_map({'x': 1})\n"),
    "traceback frame": ("compile", "def tool(conv):\n    try:\n        1/0\n    except Exception as e:\n        return e.__traceback__.tb_frame\n"),
    "AttributeError.obj (CVE-2024-47532)": ("compile", "def tool(conv):\n    try:\n        conv.nope\n    except AttributeError as e:\n        return e.obj\n"),
    "datetime.sys": ("run", "import datetime\ndef tool(conv):\n    return datetime.sys.modules['os']\n"),
    "json.codecs.builtins": ("run", "import json\ndef tool(conv):\n    return json.codecs.builtins.eval\n"),
    "json.decoder module": ("compile", "from json import decoder\n"),
    "string.Formatter (CVE-2026-76825)": ("run", "import string\ndef tool(conv):\n    return string.Formatter().get_field('0.__class__', [1], {})\n"),
    "typing origin": ("compile", "import typing\ndef tool(conv):\n    return typing.List.__origin__\n"),
    "getattr": ("compile", "def tool(conv):\n    return getattr(conv, '_state')\n"),
    "vars": ("compile", "def tool(conv):\n    return vars(conv)\n"),
    "__import__": ("compile", "def tool(conv):\n    return __import__('os').system\n"),
    "__builtins__": ("compile", "def tool(conv):\n    return __builtins__\n"),
    "exec": ("compile", "def tool(conv):\n    exec('import os')\n"),
    "eval of built text": ("compile", "def tool(conv):\n    return eval(chr(95) * 2 + 'import' + chr(95) * 2)\n"),
    "mro": ("compile", "def tool(conv):\n    return int.mro()[1]\n"),
    "type with three arguments": ("compile", "def tool(conv):\n    return type('X', (), {})\n"),
    "metaclass": ("compile", "class M(type):\n    pass\n"),
    "positional-only guard shadow (GHSA-ffg3-p8fm-mjx2)": ("compile", "def tool(conv, _getattr_=len, /):\n    return conv.state\n"),
    "global guard": ("compile", "def tool(conv):\n    global _write_\n    _write_ = len\n"),
    "try/except* (CVE-2025-22153)": ("compile", "def tool(conv):\n    try:\n        raise ValueError\n    except* ValueError as eg:\n        return eg\n"),
    "print to an object with write": ("run", "class W:\n    def write(self, s):\n        pass\ndef tool(conv):\n    print('x', file=W())\n"),
    "property setter": ("compile", "def tool(conv):\n    return Conversation.state.fset\n"),
    "module view __dict__": ("compile", "import json\ndef tool(conv):\n    return json.__dict__\n"),
    "module view replaced member": ("run", "import json\ndef tool(conv):\n    json.loads = len\n"),
    "copy": ("compile", "import copy\n"),
    "operator.attrgetter": ("compile", "from operator import attrgetter\n"),
    "functools.update_wrapper": ("run", "import functools\ndef tool(conv):\n    return functools.update_wrapper\n"),
    "re.enum.sys": ("run", "import re\ndef tool(conv):\n    return re.enum.sys\n"),
    "urllib.request": ("run", "import urllib.parse\ndef tool(conv):\n    return urllib.request.urlopen\n"),
    "match capture of a guard name": ("compile", "def tool(conv):\n    match conv:\n        case _getattr_:\n            return 1\n"),
    "async": ("compile", "async def tool(conv):\n    pass\n"),
    "write through a starred target": ("run", "def tool(conv):\n    a, *conv.env = [1, 2]\n"),
    "importing the runtime": ("compile", "import sandbox.inside.guards\n"),
}


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_escape_is_stopped_by_its_layer(name):
    layer, source = ESCAPES[name]
    from sandbox.compiler import CompileErrors

    if layer == "compile":
        with pytest.raises(CompileErrors):
            compile_tool(source)
        return
    error, line = failing(source)
    assert isinstance(error, (AttributeError, TypeError, ImportError))
    assert line is not None
