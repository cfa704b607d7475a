"""Every code example of the platform's pages (shared/seeds), unchanged, compiled by
sandbox.compile.compiler and run in-process under the guards (sandbox.child.guards) against
the stand-in ``conv`` of tests/guard_support.py; the real ``conv`` belongs to
sandbox/child/conv.py and is exercised end to end by tests/test_seeds.py.
"""

from __future__ import annotations

import datetime
import importlib.util
import sys
import types

import pytest

from tests.conftest import seed_source
from tests.guard_support import FakeConv, call


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
    "000/001 dynamic updates": (seed_source("001_dynamic_updates.py"), {}, None, {"current_date": "March 22, 1995"}),
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
    "002 implementation example": (seed_source("002_start_function.py"), {}, "", None),
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
    "002 hardcoded map": (seed_source("002_hardcoded_map.py"), {}, "", None),
    "002 dynamic variant lookup": (seed_source("002_variant_lookup.py"), {}, "", None),
    "002 language voice": (seed_source("002_language_voice.py"), {}, "", None),
    "002 channel type": (seed_source("002_channel_type.py"), {}, "", {"is_voice": True}),
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
        {
            "listen": {
                "channel": "SPEECH_AND_DTMF",
                "dtmf": {"finish_on_key": "#", "timeout": 15, "num_digits": 5},
                "asr": {"timeout": 20},
            }
        },
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
                "dtmf": {
                    "num_digits": 6,
                    "finish_on_key": "#",
                    "first_digit_timeout": 5,
                    "inter_digit_timeout": 2,
                    "is_pii": True,
                },
            },
        },
        None,
    ),
    "003/004 variant": (
        '\ndef tool(conv: Conversation):\n    return {\n      "variant": "orleans"\n    }\n',
        {},
        {"variant": "orleans"},
        None,
    ),
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
