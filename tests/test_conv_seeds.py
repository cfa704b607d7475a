"""The seed examples: every code example of the platform docs (/work/shared/seeds), unchanged,
compiled with RestrictedPython and a stand-in for the runtime's guards and run against
the real conv (sandbox/child/conv.py); what they return is then normalized, so the
contract is checked end to end across this layer.
"""

from __future__ import annotations

import textwrap
import types
from typing import Any

import pytest
from RestrictedPython import compile_restricted, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence, safer_getattr

from sandbox.child.conv import Conversation, State
from sandbox.child.logs import Log
from sandbox.child.values import to_plain
from sandbox.child.voice import VOICE_MODULE_NAMES
from sandbox.supervisor.normalize import normalize_action, validate_conversation
from tests.conftest import seed_source
from tests.conv_support import VARIANTS

# -- seed examples, run unchanged under RestrictedPython ---------------------------------


def _guarded_write(ob: Any) -> Any:
    """Stand-in for the runtime's write guard, as the brief describes it."""
    if type(ob) in (dict, list, State):
        return ob
    raise TypeError(f"{type(ob).__name__} is read-only")


def _guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    if name == "polyai.voice":
        module = types.ModuleType("polyai.voice")
        for attr, value in VOICE_MODULE_NAMES.items():
            setattr(module, attr, value)
        return module
    # datetime's C code imports "time" through the *calling frame's* __import__ when
    # strftime runs, so an import guard must let that one through as well.
    if name in ("datetime", "time"):
        return __import__(name, globals, locals, fromlist, level)
    raise ImportError(f"import of {name} is not allowed")


def run_tool(source: str, function: str, conv: Conversation, log: Log, *args: Any) -> Any:
    """Compile ``source`` with RestrictedPython and call ``function(conv, *args)``."""
    code = compile_restricted(source, f"<{function}>", "exec")
    builtins = dict(safe_builtins, __import__=_guarded_import)
    namespace: dict[str, Any] = {
        "__builtins__": builtins,
        "__name__": "tool",
        "_getattr_": safer_getattr,
        "_write_": _guarded_write,
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "Conversation": Conversation,
        "log": log,
    }
    exec(code, namespace)
    return namespace[function](conv, *args)


def call(source: str, function: str = "tool", **conv_fields: Any):
    """Run a seed example; return (conv, log, returned plain, action)."""
    secrets = conv_fields.pop("secrets", {})
    data = validate_conversation(conv_fields)
    log = Log({})
    conv = Conversation(data, function=function, secrets=secrets, log=log)
    returned = run_tool(source, function, conv, log)
    plain = to_plain(returned, "return")
    action = normalize_action(plain, conv._effects(), data["variants"])
    return conv, log, plain, action


def snippet(body: str, name: str = "tool") -> str:
    """A documented snippet, unchanged, as the body of a tool function."""
    return f"def {name}(conv: Conversation):\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"


def test_seed_define_variables():
    conv, _, _, action = call(
        snippet(
            """
            conv.state.my_variable = 1
            conv.state.my_other_variable = {
                "property": "value"
            }
            """
        )
    )
    assert conv._export_state() == {"my_variable": 1, "my_other_variable": {"property": "value"}}
    assert action == {}


@pytest.mark.parametrize("value, expected", [(10, {"content": "Well done you hit 10"}), (9, {})])
def test_seed_read_variable_in_later_call(value, expected):
    source = snippet(
        """
        if conv.state.my_variable == 10:
            return "Well done you hit 10"
        """
    )
    assert call(source, state={"my_variable": value})[3] == expected


def test_seed_unset_reads():
    source = snippet(
        """
        a = conv.state.foo            # None if never set
        b = conv.state["foo"]         # None if never set
        c = conv.state.get("foo")     # None if never set (with optional default)
        attempts = conv.state.verification_attempts or 0
        intent = conv.state.call_intent or "other"
        return {"content": str([a, b, c, attempts, intent])}
        """
    )
    assert call(source)[3] == {"content": "[None, None, None, 0, 'other']"}


def test_seed_none_markers_and_in():
    start = """
def start_function(conv: Conversation):
    conv.state.booking_time = None   # explicit "not yet collected" marker
    conv.state.customer_id = None
"""
    conv, _, _, _ = call(start, "start_function")
    state = conv._export_state()
    assert state == {"booking_time": None, "customer_id": None}
    later = snippet(
        """
        # later, in a flow step
        if conv.state.booking_time is None:
            return "What time would you like to book?"
        """
    )
    assert call(later, state=state)[3] == {"content": "What time would you like to book?"}
    strict = snippet(
        """
        if "booking_time" in conv.state:
            return "assigned"
        """
    )
    assert call(strict, state=state)[3] == {"content": "assigned"}
    assert call(strict)[3] == {}


def test_seed_builtin_keys_in_logs():
    source = snippet(
        """
        log.info(f"Caller: {conv.state.from_}, Callee: {conv.state.to}")
        log.info(f"ASR language: {conv.state.asr_lang_code}")
        """
    )
    _, log, _, _ = call(source, state={"from_": "+1555", "to": "+1666", "asr_lang_code": "en-US"})
    assert log._export() == [["info", "Caller: +1555, Callee: +1666"], ["info", "ASR language: en-US"]]


def test_seed_current_date_and_fake_date():
    source = """
from datetime import datetime

def start_function(conv: Conversation):
    conv.state.current_date = datetime.now().strftime("%B %d, %Y")
"""
    conv, _, _, _ = call(source, "start_function")
    assert isinstance(conv.state.current_date, str) and conv.state.current_date
    fake = """
from datetime import datetime

def set_fake_date(conv: Conversation):
    conv.state.current_date = datetime(1995, 3, 22).date().strftime("%B %d, %Y")
"""
    conv, _, _, _ = call(fake, "set_fake_date")
    assert conv._export_state() == {"current_date": "March 22, 1995"}


@pytest.mark.parametrize("env", ["sandbox", "pre-release", "live", None])
def test_seed_env_branches(env):
    source = snippet(
        """
        if conv.env == "sandbox":
            # enable early feedback flow
            pass
        elif conv.env == "pre-release":
            # activate staging tools
            pass
        elif conv.env == "live":
            # run production features
            pass
        """
    )
    assert call(source, env=env)[3] == {}


def test_seed_delete_variable():
    conv, _, _, _ = call(snippet("del conv.state['variable_name']"), state={"variable_name": 1, "keep": 2})
    assert conv._export_state() == {"keep": 2}


def test_seed_delete_by_attribute_and_nested_writes_under_guards():
    source = snippet(
        """
        del conv.state.gone
        conv.state.x = {}
        conv.state.x["a"] = 1
        conv.state.items = [1, 2, 3]
        conv.state.items.append(4)
        conv.state["y"] = 2
        """
    )
    conv, _, _, _ = call(source, state={"gone": 1})
    assert conv._export_state() == {"x": {"a": 1}, "items": [1, 2, 3, 4], "y": 2}


START_IMPLEMENTATION = seed_source("002_start_function.py")


def test_seed_start_implementation_with_variants():
    conv, _, plain, action = call(
        START_IMPLEMENTATION,
        "start_function",
        channel_type="sip.polyai",
        caller_number="+15550001",
        callee_number="+442345678901",
        variants=VARIANTS,
        integration_attributes={"shared_id": "share-1"},
    )
    state = conv._export_state()
    assert state["phone_number"] == "+15550001"
    assert state["is_voice"] is True
    assert state["available_times"] is None and "user_bookings" in state
    assert state["shared_id"] == "share-1"
    assert plain == "" and action == {"variant": "new_york"}


def test_seed_start_implementation_without_variants_or_attributes():
    conv, _, _, action = call(START_IMPLEMENTATION, "start_function", channel_type="webchat.polyai")
    state = conv._export_state()
    assert state["phone_number"] is None and state["is_voice"] is False
    assert "shared_id" not in state
    assert action == {"variant": "default"}


def test_seed_dynamic_greeting():
    source = snippet(
        """
        return {
            "utterance": f"Welcome to {conv.variant.site_name}. How can I help you today?"
        }
        """,
        "start_function",
    )
    action = call(source, "start_function", variants=VARIANTS, variant="london")[3]
    assert action == {"utterance": "Welcome to London Bridge. How can I help you today?"}


def test_seed_listen_configuration():
    source = snippet(
        """
        return {
            "utterance": "Welcome. Please say or enter your account number.",
            "listen": {
                "asr": {
                    "timeout": 15
                }
            }
        }
        """,
        "start_function",
    )
    assert call(source, "start_function")[3] == {
        "utterance": "Welcome. Please say or enter your account number.",
        "listen": {"asr": {"timeout": 15}},
    }


def test_seed_get_secret():
    source = snippet(
        """
        api_key = conv.utils.get_secret("my_api_key")
        conv.state.key_length = len(api_key)
        """
    )
    conv, _, _, _ = call(source, secrets={"my_api_key": "abc123"})
    assert conv.state.key_length == 6
    assert conv._secrets_used() == ["my_api_key"]


def test_seed_hardcoded_map():
    source = """
def start_function(conv: Conversation):
    phone_numbers = {
        "+441234567890": "London",
        "+442345678901": "New York",
    }
    conv.set_variant(phone_numbers.get(conv.callee_number, "default"))
    return str()
"""
    assert call(source, "start_function", callee_number="+441234567890")[3] == {"variant": "London"}
    assert call(source, "start_function")[3] == {"variant": "default"}
    variants = {"London": {}, "New York": {}, "default": {}}
    assert call(source, "start_function", variants=variants, callee_number="+1")[3] == {"variant": "default"}


def test_seed_dynamic_lookup_from_variant_attributes():
    source = """
def start_function(conv: Conversation):
    callee_map = {
        variant.callee: variant_name
        for variant_name, variant in conv.variants.items()
    }
    if conv.callee_number and conv.callee_number in callee_map:
        conv.set_variant(callee_map[conv.callee_number])
    return str()
"""
    action = call(source, "start_function", variants=VARIANTS, callee_number="+441234567890")[3]
    assert action == {"variant": "london"}
    assert call(source, "start_function", variants=VARIANTS)[3] == {}
    assert call(source, "start_function")[3] == {}


LANGUAGE_EXAMPLE = """
def start_function(conv: Conversation):
    language = conv.sip_headers.get("X-Language", "en")
    conv.set_variant(language)

    if language == "es":
        from polyai.voice import CartesiaVoice
        conv.set_voice(CartesiaVoice(provider_voice_id="your-voice-id"))
    return str()
"""


def test_seed_language_voice():
    action = call(LANGUAGE_EXAMPLE, "start_function", sip_headers={"x-language": "es"})[3]
    assert action == {"variant": "es", "voice": {"provider": "cartesia", "provider_voice_id": "your-voice-id"}}
    assert call(LANGUAGE_EXAMPLE, "start_function")[3] == {"variant": "en"}


def test_seed_channel_type():
    source = """
def start_function(conv: Conversation):
    conv.state.is_voice = conv.channel_type == "sip.polyai"
    if not conv.state.is_voice:
        conv.state.transfers_enabled = False
    return str()
"""
    conv = call(source, "start_function", channel_type="webchat.polyai")[0]
    assert conv._export_state() == {"is_voice": False, "transfers_enabled": False}
    conv = call(source, "start_function", channel_type="sip.polyai")[0]
    assert conv._export_state() == {"is_voice": True}


REFER = {"type": "CALL_CENTER", "reason": "SPEAK_TO", "refer": {"phone_number": "12345"}}


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            'return "Tell the user that you cannot assist with their request"',
            {"content": "Tell the user that you cannot assist with their request"},
        ),
        (
            'return {\n  "content": "Tell the user that you cannot assist with their request"\n}',
            {"content": "Tell the user that you cannot assist with their request"},
        ),
        (
            'return {\n  "utterance": "I cannot assist with your request."\n}',
            {"utterance": "I cannot assist with your request."},
        ),
        (
            'return {\n  "handoff": {\n    "type": "CALL_CENTER",\n    "reason": "SPEAK_TO",\n'
            '    "refer": {\n      "phone_number": "12345"\n    }\n  }\n}',
            {"handoff": REFER},
        ),
        ('return {\n  "hangup": True\n}', {"hangup": True}),
        (
            'return {\n  "utterance": "Can I help you with anything else?",\n  "listen": {\n    "asr": {\n      "timeout": 20\n    }\n  }\n}',
            {"utterance": "Can I help you with anything else?", "listen": {"asr": {"timeout": 20}}},
        ),
        (
            'return {\n  "utterance": "Please enter your 6-digit code followed by the hash key.",\n  "listen": {\n'
            '    "channel": "SPEECH_AND_DTMF",\n    "dtmf": {\n      "num_digits": 6,\n      "finish_on_key": "#",\n'
            '      "first_digit_timeout": 5,\n      "inter_digit_timeout": 2,\n      "is_pii": True\n    }\n  }\n}',
            {
                "utterance": "Please enter your 6-digit code followed by the hash key.",
                "listen": {
                    "channel": "SPEECH_AND_DTMF",
                    "dtmf": {
                        "num_digits": 6,
                        "finish_on_key": "#",
                        "first_digit_timeout": 5,
                        "inter_digit_timeout": 2,
                        "is_pii": True,
                    },
                },
            },
        ),
        ('return {\n  "variant": "orleans"\n}', {"variant": "orleans"}),
        (
            'return {\n  "utterance": "Let me connect you with the Orleans location.",\n  "variant": "orleans"\n}',
            {"utterance": "Let me connect you with the Orleans location.", "variant": "orleans"},
        ),
        (
            'return {\n  "utterance": "Let me transfer you to a specialist who can help with that.",\n  "handoff": {\n'
            '    "type": "CALL_CENTER",\n    "reason": "SPEAK_TO",\n    "refer": { "phone_number": "12345" }\n  }\n}',
            {"utterance": "Let me transfer you to a specialist who can help with that.", "handoff": REFER},
        ),
        (
            'return {\n  "utterance": "Thanks for calling, have a great day!",\n  "hangup": True\n}',
            {"utterance": "Thanks for calling, have a great day!", "hangup": True},
        ),
        (
            'return {\n  "utterance": "I\'ve updated your reservation.",\n  "content": "The reservation has been changed. '
            "Ask if there's anything else you can help with.\"\n}",
            {
                "content": "The reservation has been changed. Ask if there's anything else you can help with.",
                "utterance": "I've updated your reservation.",
            },
        ),
        ("return str()", {}),
    ],
)
def test_seed_return_values(body, expected):
    assert call(snippet(body), variants={"orleans": {}})[3] == expected


def test_seed_invite_handoff_from_003():
    source = snippet(
        """
        return {
          "handoff": {
            "invite": {
              "phone_number": "<eg: 2222222>",
              "outbound_caller_id": conv.caller_number,
              "outbound_endpoint": "<ADD_YOUR_OUTBOUND_ENDPOINT_NAME>",
              "sip_headers": {
                "X-ANY_HEADER_NAME": "header"
              }
            }
          }
        }
        """
    )
    invite = {
        "phone_number": "<eg: 2222222>",
        "outbound_endpoint": "<ADD_YOUR_OUTBOUND_ENDPOINT_NAME>",
        "sip_headers": {"X-ANY_HEADER_NAME": "header"},
    }
    assert call(source, caller_number="+1555")[3] == {"handoff": {"invite": {**invite, "outbound_caller_id": "+1555"}}}
    assert call(source)[3] == {"handoff": {"invite": invite}}  # no caller number: the key is absent


def test_seed_003_listen_with_dtmf_timeout():
    """003's listen example uses dtmf.timeout, absent from 004's table: it still runs."""
    source = snippet(
        """
        return {
          "listen": {
            "channel": "SPEECH_AND_DTMF",
            "dtmf": {
              "finish_on_key": "#",
              "timeout": 15,
              "num_digits": 5
            },
            "asr": {
              "timeout": 20
            }
          }
        }
        """
    )
    assert call(source)[3] == {
        "listen": {
            "channel": "SPEECH_AND_DTMF",
            "dtmf": {"finish_on_key": "#", "timeout": 15, "num_digits": 5},
            "asr": {"timeout": 20},
        }
    }


def test_guards_refuse_writes_to_read_only_objects():
    for body in ("conv.env = 'live'", "conv.sip_headers['X'] = 'y'", "conv.variant.site_name = 'x'"):
        with pytest.raises(TypeError, match="read-only"):
            call(snippet(body), variants=VARIANTS, variant="london")


def test_guards_refuse_underscore_names_at_compile_time():
    result = compile_restricted_errors("def tool(conv):\n    return conv._state\n")
    assert result


def compile_restricted_errors(source: str) -> tuple[str, ...]:
    from RestrictedPython import compile_restricted_exec

    return compile_restricted_exec(source).errors
