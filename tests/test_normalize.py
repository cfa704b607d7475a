"""sandbox.supervisor.normalize, the child's side: the supervisor's validation of what the
child replies (the return value and the effects, the state, the logs) and the state
changes it reports. The caller's side (validate_conversation, validate_args) is in
tests/test_normalize_input.py.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.child.voice import parameter_table
from sandbox.errors import InvalidReturn
from sandbox.result import ACTION_KEYS
from sandbox.supervisor.normalize import (
    VOICE_PARAMETERS,
    canonical,
    normalize_action,
    normalize_logs,
    normalize_state,
    state_changes,
    validate_conversation,
)

VARIANTS = {"orleans": {}, "london": {"site_name": "x"}}
REFER = {"type": "CALL_CENTER", "reason": "SPEAK_TO", "refer": {"phone_number": "12345"}}


def action(returned, effects=None, variants=None):
    return normalize_action(returned, {} if effects is None else effects, VARIANTS if variants is None else variants)


def refused(returned, effects=None, variants=None) -> InvalidReturn:
    with pytest.raises(InvalidReturn) as caught:
        action(returned, effects, variants)
    assert str(caught.value).startswith(f"{caught.value.field}: ")
    return caught.value


# -- return shapes ---------------------------------------------------------------------


@pytest.mark.parametrize("returned", [None, "", {}])
def test_nothing_returned_is_no_action(returned):
    assert action(returned) == {}


def test_a_string_is_content():
    assert action("Tell the user no") == {"content": "Tell the user no"}
    assert action(" ") == {"content": " "}


def test_every_top_level_key():
    returned = {
        "content": "c",
        "utterance": "u",
        "handoff": REFER,
        "hangup": False,
        "listen": {"listen": True},
        "variant": "orleans",
    }
    out = action(returned)
    assert out == returned
    assert list(out) == [key for key in ACTION_KEYS if key in out]


def test_none_values_count_as_absent_everywhere():
    returned = {
        "content": None,
        "utterance": "u",
        "handoff": {"type": None, "refer": {"phone_number": "1", "sip_headers": None}, "invite": None},
        "listen": {"asr": {"timeout": None, "keywords": ["a"]}, "dtmf": None},
        "variant": None,
    }
    assert action(returned) == {
        "utterance": "u",
        "handoff": {"refer": {"phone_number": "1"}},
        "listen": {"asr": {"keywords": ["a"]}},
    }


def test_full_listen_table_is_accepted():
    listen = {
        "listen": True,
        "delayed_response": False,
        "asr": {
            "timeout": 20,
            "keywords": ["Orleans", "booking"],
            "custom_biases": {"Orleans": 5, "flimsy": 1.5},
            "fields": ["postcode"],
            "corrections": {"or leans": "Orleans"},
        },
        "dtmf": {
            "num_digits": 6,
            "first_digit_timeout": 5,
            "inter_digit_timeout": 2.5,
            "finish_on_key": "#",
            "early_listening": True,
            "is_pii": True,
        },
        "channel": "SPEECH_AND_DTMF",
        "barge_in": {"is_enabled": True, "interruption_window": 0.5},
        "smart_vad": {"is_enabled": True, "max_extensions": 0, "max_extension_duration": 1},
        "interjection": {"enable": True, "frequency": 4},
    }
    assert action({"listen": listen}) == {"listen": listen}


def test_dtmf_timeout_from_the_older_page_passes_through():
    listen = {
        "channel": "SPEECH_AND_DTMF",
        "dtmf": {"finish_on_key": "#", "timeout": 15, "num_digits": 5},
        "asr": {"timeout": 20},
    }
    assert action({"listen": listen}) == {"listen": listen}


@pytest.mark.parametrize("channel", ["SPEECH", "DTMF", "SPEECH_AND_DTMF"])
def test_channels(channel):
    assert action({"listen": {"channel": channel}}) == {"listen": {"channel": channel}}


@pytest.mark.parametrize("key", ["", "0", "9", "*", "#"])
def test_finish_on_key_values(key):
    assert action({"listen": {"dtmf": {"finish_on_key": key}}})["listen"]["dtmf"]["finish_on_key"] == key


@pytest.mark.parametrize(
    "handoff",
    [
        REFER,
        {"refer": {"phone_number": "sip:desk@example.com", "sip_headers": {"X-Customer-ID": "abc123"}}},
        {
            "invite": {
                "phone_number": "2222222",
                "outbound_caller_id": "+1555",
                "outbound_endpoint": "trunk-a",
                "sip_headers": {"X-ANY_HEADER_NAME": "header"},
            }
        },
        {"type": "CALL_CENTER", "bye": {}},
        {"bye": {"sip_headers": {"X-Reason": "done"}}},
    ],
)
def test_handoff_shapes(handoff):
    assert action({"handoff": handoff}) == {"handoff": handoff}


def test_variant_is_free_when_no_variants_are_configured():
    assert action({"variant": "anything"}, variants={}) == {"variant": "anything"}


def test_numbers_keep_their_type():
    out = action({"listen": {"asr": {"timeout": 15}, "barge_in": {"interruption_window": 1.0}}})
    assert type(out["listen"]["asr"]["timeout"]) is int
    assert type(out["listen"]["barge_in"]["interruption_window"]) is float


def test_the_action_is_a_copy():
    returned = {"listen": {"asr": {"keywords": ["a"]}}}
    out = action(returned)
    out["listen"]["asr"]["keywords"].append("b")
    assert returned == {"listen": {"asr": {"keywords": ["a"]}}}


# -- every InvalidReturn field -----------------------------------------------------------


@pytest.mark.parametrize(
    "returned, field, words",
    [
        (5, "return", "must be a str, a dict or None, got int"),
        (True, "return", "got bool"),
        ([], "return", "got list"),
        ("\ud800", "return", "lone surrogate"),
        ({"foo": 1}, "foo", "unknown key; a return dict takes: content, utterance"),
        ({"voice": {}}, "voice", "conv.set_voice"),
        ({1: "x"}, "return", "keys must be str"),
        ({"content": 1}, "content", "must be a str, got int"),
        ({"content": "bad \udc00"}, "content", "lone surrogate"),
        ({"utterance": ["a"]}, "utterance", "must be a str, got list"),
        ({"hangup": 1}, "hangup", "must be a bool"),
        ({"hangup": "yes"}, "hangup", "must be a bool"),
        ({"variant": 3}, "variant", "must be a str"),
        ({"variant": "paris"}, "variant", "unknown variant 'paris'; known variants: 'london', 'orleans'"),
        ({"handoff": "desk"}, "handoff", "must be a dict, got str"),
        ({"handoff": {}}, "handoff", "needs exactly one of refer, invite, bye; got none"),
        ({"handoff": {"refer": {"phone_number": "1"}, "bye": {}}}, "handoff", "got refer and bye"),
        (
            {"handoff": {"destination": "x", "bye": {}}},
            "handoff.destination",
            "unknown key; handoff takes: type, reason",
        ),
        ({"handoff": {"type": 1, "bye": {}}}, "handoff.type", "must be a str"),
        ({"handoff": {"reason": "", "bye": {}}}, "handoff.reason", "must not be empty"),
        ({"handoff": {"refer": {}}}, "handoff.refer.phone_number", "required"),
        ({"handoff": {"refer": "123"}}, "handoff.refer", "must be a dict"),
        ({"handoff": {"refer": {"phone_number": ""}}}, "handoff.refer.phone_number", "must not be empty"),
        ({"handoff": {"refer": {"phone_number": 12345}}}, "handoff.refer.phone_number", "must be a str, got int"),
        (
            {"handoff": {"refer": {"phone_number": "1\r\nX-Evil: 1"}}},
            "handoff.refer.phone_number",
            "control characters",
        ),
        (
            {"handoff": {"refer": {"phone_number": "1", "extra": 1}}},
            "handoff.refer.extra",
            "refer takes: phone_number, sip_headers",
        ),
        ({"handoff": {"invite": {"outbound_endpoint": "e"}}}, "handoff.invite.phone_number", "required"),
        (
            {"handoff": {"invite": {"phone_number": "1", "outbound_caller_id": 5}}},
            "handoff.invite.outbound_caller_id",
            "must be a str",
        ),
        (
            {"handoff": {"invite": {"phone_number": "1", "sip_headers": []}}},
            "handoff.invite.sip_headers",
            "must be a dict",
        ),
        (
            {"handoff": {"invite": {"phone_number": "1", "sip_headers": {"Bad Name": "x"}}}},
            "handoff.invite.sip_headers.Bad Name",
            "not a valid SIP header name",
        ),
        (
            {"handoff": {"invite": {"phone_number": "1", "sip_headers": {"X-A": "v\nInjected: 1"}}}},
            "handoff.invite.sip_headers.X-A",
            "control characters",
        ),
        (
            {"handoff": {"invite": {"phone_number": "1", "sip_headers": {"X-A": 1}}}},
            "handoff.invite.sip_headers.X-A",
            "must be a str",
        ),
        (
            {"handoff": {"invite": {"phone_number": "1", "sip_headers": {"X-A": "1", "x-a": "2"}}}},
            "handoff.invite.sip_headers.x-a",
            "the same header as 'X-A'",
        ),
        ({"handoff": {"bye": {"phone_number": "1"}}}, "handoff.bye.phone_number", "bye takes: sip_headers"),
        ({"listen": True}, "listen", "must be a dict, got bool"),
        ({"listen": {"volume": 1}}, "listen.volume", "unknown key; listen takes: listen, delayed_response, asr"),
        ({"listen": {"listen": 1}}, "listen.listen", "must be a bool"),
        ({"listen": {"delayed_response": "no"}}, "listen.delayed_response", "must be a bool"),
        ({"listen": {"asr": []}}, "listen.asr", "must be a dict"),
        ({"listen": {"asr": {"timeout": True}}}, "listen.asr.timeout", "must be a number (int or float), got bool"),
        ({"listen": {"asr": {"timeout": "15"}}}, "listen.asr.timeout", "must be a number"),
        ({"listen": {"asr": {"timeout": -1}}}, "listen.asr.timeout", "must be >= 0 seconds"),
        ({"listen": {"asr": {"timeout": math.inf}}}, "listen.asr.timeout", "finite"),
        ({"listen": {"asr": {"timeout": math.nan}}}, "listen.asr.timeout", "finite"),
        (
            {"listen": {"asr": {"model": "x"}}},
            "listen.asr.model",
            "asr takes: timeout, keywords, custom_biases, fields, corrections",
        ),
        ({"listen": {"asr": {"keywords": "a"}}}, "listen.asr.keywords", "must be a list of str"),
        ({"listen": {"asr": {"keywords": ["a", 2]}}}, "listen.asr.keywords[1]", "must be a str"),
        ({"listen": {"asr": {"custom_biases": ["a"]}}}, "listen.asr.custom_biases", "must be a dict of str to number"),
        ({"listen": {"asr": {"custom_biases": {"a": True}}}}, "listen.asr.custom_biases.a", "must be a number"),
        ({"listen": {"asr": {"fields": [None]}}}, "listen.asr.fields[0]", "must be a str"),
        ({"listen": {"asr": {"corrections": {"a": 1}}}}, "listen.asr.corrections.a", "must be a str"),
        ({"listen": {"dtmf": {"num_digits": True}}}, "listen.dtmf.num_digits", "must be an int, got bool"),
        ({"listen": {"dtmf": {"num_digits": 6.0}}}, "listen.dtmf.num_digits", "must be an int, got float"),
        ({"listen": {"dtmf": {"num_digits": 0}}}, "listen.dtmf.num_digits", "must be >= 1"),
        ({"listen": {"dtmf": {"first_digit_timeout": "5"}}}, "listen.dtmf.first_digit_timeout", "must be a number"),
        ({"listen": {"dtmf": {"inter_digit_timeout": False}}}, "listen.dtmf.inter_digit_timeout", "got bool"),
        ({"listen": {"dtmf": {"finish_on_key": "##"}}}, "listen.dtmf.finish_on_key", "one DTMF key"),
        ({"listen": {"dtmf": {"finish_on_key": "a"}}}, "listen.dtmf.finish_on_key", "one DTMF key"),
        ({"listen": {"dtmf": {"finish_on_key": 1}}}, "listen.dtmf.finish_on_key", "must be a str"),
        ({"listen": {"dtmf": {"early_listening": 1}}}, "listen.dtmf.early_listening", "must be a bool"),
        ({"listen": {"dtmf": {"is_pii": "True"}}}, "listen.dtmf.is_pii", "must be a bool"),
        ({"listen": {"dtmf": {"timeout": True}}}, "listen.dtmf.timeout", "must be a number"),
        ({"listen": {"dtmf": {"pin": 1}}}, "listen.dtmf.pin", "dtmf takes: num_digits, first_digit_timeout"),
        (
            {"listen": {"channel": "VOICE"}},
            "listen.channel",
            "must be one of 'SPEECH', 'DTMF', 'SPEECH_AND_DTMF', got 'VOICE'",
        ),
        ({"listen": {"channel": "speech"}}, "listen.channel", "must be one of"),
        ({"listen": {"channel": 1}}, "listen.channel", "got int"),
        ({"listen": {"barge_in": {"is_enabled": 1}}}, "listen.barge_in.is_enabled", "must be a bool"),
        ({"listen": {"barge_in": {"interruption_window": -0.1}}}, "listen.barge_in.interruption_window", ">= 0"),
        (
            {"listen": {"barge_in": {"enabled": True}}},
            "listen.barge_in.enabled",
            "barge_in takes: is_enabled, interruption_window",
        ),
        (
            {"listen": {"smart_vad": {"is_enabled": None, "max_extensions": 1.5}}},
            "listen.smart_vad.max_extensions",
            "must be an int",
        ),
        ({"listen": {"smart_vad": {"max_extensions": -1}}}, "listen.smart_vad.max_extensions", ">= 0"),
        (
            {"listen": {"smart_vad": {"max_extension_duration": True}}},
            "listen.smart_vad.max_extension_duration",
            "got bool",
        ),
        ({"listen": {"interjection": {"enable": "yes"}}}, "listen.interjection.enable", "must be a bool"),
        ({"listen": {"interjection": {"frequency": 0}}}, "listen.interjection.frequency", "must be > 0 seconds"),
        (
            {"listen": {"interjection": {"is_enabled": True}}},
            "listen.interjection.is_enabled",
            "interjection takes: enable, frequency",
        ),
    ],
)
def test_invalid_returns_name_the_field(returned, field, words):
    error = refused(returned)
    assert error.field == field
    assert words in str(error)


# -- effects and the combination rules ---------------------------------------------------

CARTESIA = {"provider": "cartesia", "provider_voice_id": "v1"}


def test_effects_alone():
    effects = {"variant": "london", "voice": CARTESIA, "handoff": {"destination": "desk", "reason": "needs_human"}}
    assert action(None, effects) == {
        "handoff": {"destination": "desk", "reason": "needs_human"},
        "variant": "london",
        "voice": CARTESIA,
    }


def test_returned_variant_wins_over_set_variant():
    assert action({"variant": "orleans"}, {"variant": "london"}) == {"variant": "orleans"}


def test_set_variant_applies_when_the_return_has_none():
    assert action("hello", {"variant": "london"}) == {"content": "hello", "variant": "london"}


def test_voice_only_from_set_voice():
    assert action({"utterance": "hola"}, {"voice": CARTESIA}) == {"utterance": "hola", "voice": CARTESIA}


def test_call_handoff_gives_handoff_and_utterance():
    effects = {"handoff": {"destination": "desk", "utterance": "Transferring you now."}}
    assert action(None, effects) == {"utterance": "Transferring you now.", "handoff": {"destination": "desk"}}


def test_call_handoff_with_no_arguments_is_the_default_destination():
    assert action(None, {"handoff": {}}) == {"handoff": {}}


def test_returned_utterance_wins_over_call_handoff_utterance():
    effects = {"handoff": {"destination": "desk", "utterance": "from call_handoff"}}
    assert action({"utterance": "from return"}, effects) == {
        "utterance": "from return",
        "handoff": {"destination": "desk"},
    }


def test_returned_handoff_replaces_call_handoff_entirely():
    effects = {"handoff": {"destination": "desk", "utterance": "from call_handoff"}}
    assert action({"handoff": REFER}, effects) == {"handoff": REFER}


def test_call_handoff_and_hangup_are_both_kept():
    assert action({"hangup": True}, {"handoff": {"reason": "r"}}) == {"handoff": {"reason": "r"}, "hangup": True}


def test_effect_keys_follow_the_action_order():
    effects = {"voice": CARTESIA, "variant": "london", "handoff": {"utterance": "u"}}
    out = action({"content": "c", "hangup": True, "listen": {}}, effects)
    assert list(out) == ["content", "utterance", "handoff", "hangup", "listen", "variant", "voice"]


@pytest.mark.parametrize("effects", [None, {}])
def test_no_effects(effects):
    assert normalize_action("x", effects, {}) == {"content": "x"}


@pytest.mark.parametrize(
    "effects, field, words",
    [
        ([], "effects", "must be a dict"),
        ({"hangup": True}, "effects.hangup", "unknown effect; effects are: variant, voice, handoff"),
        ({"variant": "paris"}, "set_variant", "unknown variant 'paris'"),
        ({"variant": 1}, "set_variant", "must be a str"),
        ({"voice": "cartesia"}, "set_voice", "must be a dict"),
        ({"voice": {"provider": "acme", "provider_voice_id": "a"}}, "set_voice.provider", "must be one of 'cartesia'"),
        ({"voice": {"provider": "cartesia"}}, "set_voice.provider_voice_id", "required"),
        (
            {"voice": {"provider": "cartesia", "provider_voice_id": ""}},
            "set_voice.provider_voice_id",
            "must not be empty",
        ),
        ({"voice": {**CARTESIA, "speed": "fast"}}, "set_voice.speed", "must be a number"),
        ({"voice": {**CARTESIA, "speed": True}}, "set_voice.speed", "got bool"),
        ({"voice": {**CARTESIA, "stability": 0.5}}, "set_voice.stability", "a cartesia voice takes:"),
        (
            {"voice": {"provider": "elevenlabs", "provider_voice_id": "e", "stability": 2}},
            "set_voice.stability",
            "from 0.0 to 1.0",
        ),
        ({"handoff": "desk"}, "call_handoff", "must be a dict"),
        ({"handoff": {"destination": 1}}, "call_handoff.destination", "must be a str"),
        ({"handoff": {"reason": "a\r\nb"}}, "call_handoff.reason", "control characters"),
        ({"handoff": {"utterance": 5}}, "call_handoff.utterance", "must be a str"),
        (
            {"handoff": {"phone_number": "1"}},
            "call_handoff.phone_number",
            "call_handoff takes: destination, reason, utterance",
        ),
    ],
)
def test_invalid_effects_name_the_conv_method(effects, field, words):
    error = refused(None, effects)
    assert error.field == field
    assert words in str(error)


def test_every_voice_provider_is_accepted():
    for provider, parameters in VOICE_PARAMETERS.items():
        voice = {"provider": provider}
        for name, kind in parameters.items():
            voice[name] = "x" if kind == "str" else 0.5
        assert action(None, {"voice": voice}) == {"voice": voice}


def test_supervisor_voice_table_matches_the_child_classes():
    assert {p: dict(f) for p, f in VOICE_PARAMETERS.items()} == parameter_table()


# -- state -------------------------------------------------------------------------------


def test_normalize_state_accepts_plain_data_and_copies():
    state = {"a": [1, 2.0, True, None, "x", {"b": 10**30}]}
    out = normalize_state(state)
    assert out == state and out is not state and out["a"] is not state["a"]


@pytest.mark.parametrize(
    "state, field, words",
    [
        ([], "state", "must be a dict"),
        ({"a": math.nan}, "state.a", "finite"),
        ({"a": [1, {"b": math.inf}]}, "state.a[1].b", "finite"),
        ({"a": {1: 2}}, "state.a", "keys must be str"),
        ({"a": "\ud800"}, "state.a", "lone surrogate"),
        ({"a": (1, 2)}, "state.a", "must be plain JSON data, got tuple"),
        ({"a": 2**15000}, "state.a", "int too large"),
    ],
)
def test_normalize_state_refuses(state, field, words):
    with pytest.raises(InvalidReturn) as caught:
        normalize_state(state)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_normalize_state_depth_cap():
    deep: dict = {}
    node = deep
    for _ in range(64):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(InvalidReturn, match="nested more than 64"):
        normalize_state(deep)


def test_normalize_logs():
    assert normalize_logs([["info", "a"], ["error", "b"]]) == [
        {"level": "info", "message": "a"},
        {"level": "error", "message": "b"},
    ]
    assert normalize_logs([]) == []


@pytest.mark.parametrize(
    "records, field",
    [
        ({}, "logs"),
        ([["info"]], "logs[0]"),
        ([["info", "a"], ["fatal", "b"]], "logs[1][0]"),
        ([["info", 5]], "logs[0][1]"),
        ([("info", "a")], "logs[0]"),
    ],
)
def test_normalize_logs_refuses(records, field):
    with pytest.raises(InvalidReturn) as caught:
        normalize_logs(records)
    assert caught.value.field == field


# -- state_changes -----------------------------------------------------------------------


def test_state_changes_basic():
    before = {"keep": 1, "change": "a", "drop": True, "drop2": None}
    after = {"keep": 1, "change": "b", "new": None}
    assert state_changes(before, after) == {"set": {"change": "b", "new": None}, "deleted": ["drop", "drop2"]}


@pytest.mark.parametrize(
    "old, new",
    [
        (1, 1.0),
        (1, True),
        (0, False),
        (0.0, False),
        (0, None),
        ("1", 1),
        ([1], [1.0]),
        ({"a": 1}, {"a": True}),
        (0.0, -0.0),
    ],
)
def test_state_changes_are_type_aware(old, new):
    assert state_changes({"k": old}, {"k": new})["set"] == {"k": new}
    assert state_changes({"k": new}, {"k": old})["set"] == {"k": old}


def test_state_changes_ignore_dict_key_order_and_equal_values():
    before = {"k": {"a": 1, "b": [1, 2]}, "n": 2**100}
    after = {"k": {"b": [1, 2], "a": 1}, "n": 2**100}
    assert state_changes(before, after) == {"set": {}, "deleted": []}


def test_state_changes_list_order_matters():
    assert state_changes({"k": [1, 2]}, {"k": [2, 1]})["set"] == {"k": [2, 1]}


def test_canonical_distinguishes_types():
    assert len({canonical(v) for v in (1, 1.0, True, "1", [1], None, 0, False, 0.0)}) == 9


# -- properties --------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=30,
)
json_states = st.dictionaries(st.text(max_size=6), json_values, max_size=6)


@pytest.mark.system  # a property over many generated examples: seconds, too long for the unit pass
@settings(max_examples=200, deadline=None)
@given(json_states, json_states)
def test_state_changes_rebuild_after_from_before(before, after):
    changes = state_changes(before, after)
    rebuilt = {key: value for key, value in before.items() if key not in changes["deleted"]}
    rebuilt.update(changes["set"])
    assert canonical(rebuilt) == canonical(after)
    assert state_changes(after, after) == {"set": {}, "deleted": []}


@pytest.mark.system  # a property over many generated examples: seconds, too long for the unit pass
@settings(max_examples=200, deadline=None)
@given(json_states)
def test_validated_input_round_trips_through_json(state):
    out = validate_conversation(json.loads(json.dumps({"state": state})))
    assert canonical(out["state"]) == canonical(state)
    assert canonical(normalize_state(out["state"])) == canonical(state)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_normalize_action_raises_only_invalid_return(returned):
    try:
        out = normalize_action(returned, {}, {})
    except InvalidReturn:
        return
    assert set(out) <= set(ACTION_KEYS)
