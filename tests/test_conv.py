"""The objects a tool sees in the child: conv, log and polyai.voice.

Most tests call the objects directly. The "seed examples" section runs every code
example of the platform docs (/work/shared/seeds) unchanged, compiled with
RestrictedPython and a stand-in for the runtime's guards, then normalizes what they
return, so the contract is checked end to end across this layer.
"""

from __future__ import annotations

import json
import textwrap
import types
from typing import Any

import pytest

from tests.conftest import seed_source
from hypothesis import given, settings
from hypothesis import strategies as st
from RestrictedPython import compile_restricted, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence, safer_getattr

from sandbox.child.conv import (
    Conversation,
    SecretNotFound,
    State,
    UnknownVariant,
    UnstorableValue,
    Variant,
)
from sandbox.child.logs import Log
from sandbox.child.values import to_plain
from sandbox.child.voice import (
    VOICE_MODULE_NAMES,
    CartesiaVoice,
    ElevenLabsVoice,
    PlayHTVoice,
    RimeVoice,
)
from sandbox.supervisor.normalize import canonical, normalize_action, validate_conversation

VARIANTS = {
    "london": {"site_name": "London Bridge", "callee": "+441234567890"},
    "new_york": {"site_name": "Fifth Avenue", "callee": "+442345678901"},
    "default": {"site_name": "Head Office", "callee": "+10000000000"},
}


def make_conv(function: str = "some_tool", secrets: dict[str, str] | None = None, **conv: Any) -> Conversation:
    data = validate_conversation(conv)
    return Conversation(data, function=function, secrets=secrets or {}, log=Log({}))


# -- conv.state: reading ---------------------------------------------------------------


def test_never_set_variables_read_as_none_every_way():
    state = make_conv().state
    assert state.foo is None
    assert state["foo"] is None
    assert state.get("foo") is None
    assert state.get("foo", 5) == 5
    assert "foo" not in state


def test_a_variable_set_to_none_is_distinct_from_never_set():
    conv = make_conv()
    conv.state.booking_time = None
    assert "booking_time" in conv.state
    assert conv.state.booking_time is None
    assert conv.state.get("booking_time", "default") is None  # stored None is not replaced
    assert "customer_id" not in conv.state


@pytest.mark.parametrize("falsy", [0, "", False, None, [], {}, 0.0])
def test_falsy_values_are_stored_and_read_back_exactly(falsy):
    conv = make_conv()
    conv.state.x = falsy
    assert "x" in conv.state
    assert conv.state.x == falsy and type(conv.state.x) is type(falsy)
    assert (conv.state.x or "fallback") == "fallback"
    assert conv._export_state() == {"x": falsy}


def test_attribute_item_and_get_access_are_equivalent():
    conv = make_conv(state={"a": 1})
    conv.state["b"] = 2
    conv.state.c = 3
    for key, value in (("a", 1), ("b", 2), ("c", 3)):
        assert getattr(conv.state, key) == conv.state[key] == conv.state.get(key) == value


def test_builtin_keys_arrive_as_given():
    builtins = {
        "from_": "+15550001",
        "to": "+15550002",
        "call_sid": "CA123",
        "asr_lang_code": "en-US",
        "tts_lang_code": "en-GB",
        "shared_id": "s-1",
        "handoff": {"destination": "front", "reason": "x", "method": "REFER"},
        "disable_recordings": False,
        "stop_recording": False,
        "use_tts_for_responses": True,
        "asr_provider": {"name": "deepgram"},
        "asr_config": {"model": "nova"},
        "listen_for_sms": False,
    }
    conv = make_conv(state=builtins)
    assert conv.state.from_ == "+15550001"
    assert conv.state.to == "+15550002"
    assert conv.state.handoff["method"] == "REFER"
    assert conv.state.listen_for_sms is False
    assert conv._export_state() == builtins


def test_state_is_a_private_copy_of_the_request():
    data = validate_conversation({"state": {"nested": {"a": [1]}}})
    conv = Conversation(data, function="t", secrets={}, log=Log({}))
    conv.state.nested["a"].append(2)
    assert data["state"] == {"nested": {"a": [1]}}


def test_iteration_and_len():
    conv = make_conv(state={"a": 1, "b": 2})
    assert list(conv.state) == ["a", "b"]
    assert len(conv.state) == 2
    for key in conv.state:  # deleting while iterating is fine: iteration is a snapshot
        del conv.state[key]
    assert len(conv.state) == 0


def test_get_is_the_only_method_so_common_names_are_variables():
    conv = make_conv()
    assert conv.state.items is None and conv.state.keys is None and conv.state.values is None
    conv.state.items = [1, 2, 3]
    conv.state.items.append(4)
    assert conv._export_state() == {"items": [1, 2, 3, 4]}
    conv.state.get = "a variable named get"  # stored; reached by item access
    assert conv.state["get"] == "a variable named get"
    assert conv.state.get("get") == "a variable named get"


def test_underscore_attributes_are_not_variables():
    state = make_conv().state
    with pytest.raises(AttributeError):
        state._anything  # noqa: B018
    with pytest.raises(AttributeError):
        state._x = 1
    state["_x"] = 1  # item access may use any str name
    assert state["_x"] == 1


# -- conv.state: writing and deleting --------------------------------------------------


def test_nested_values_are_live_objects():
    conv = make_conv()
    conv.state.x = {}
    conv.state.x["a"] = 1
    conv.state.items = [1, 2, 3]
    conv.state.items.append(4)
    conv.state.my_other_variable = {"property": "value"}
    conv.state.my_other_variable["more"] = [{"deep": True}]
    assert conv._export_state() == {
        "x": {"a": 1},
        "items": [1, 2, 3, 4],
        "my_other_variable": {"property": "value", "more": [{"deep": True}]},
    }


def test_mutations_of_initial_nested_values_persist():
    conv = make_conv(state={"cart": {"items": ["a"]}})
    conv.state.cart["items"].append("b")
    assert conv._export_state() == {"cart": {"items": ["a", "b"]}}


def test_delete_both_ways():
    conv = make_conv(state={"a": 1, "b": 2, "variable_name": 3})
    del conv.state["variable_name"]
    del conv.state.a
    assert "a" not in conv.state and "variable_name" not in conv.state
    assert conv.state.a is None
    assert conv._export_state() == {"b": 2}


def test_deleting_an_unset_variable_does_nothing():
    conv = make_conv()
    del conv.state["never"]
    del conv.state.never
    assert conv._export_state() == {}


def test_reassignment_replaces():
    conv = make_conv(state={"n": 1})
    conv.state.n = conv.state.n + 1
    conv.state["n"] += 1
    assert conv.state.n == 3


def test_tuples_are_stored_as_lists():
    conv = make_conv()
    conv.state.t = (1, (2, 3))
    assert conv._export_state() == {"t": [1, [2, 3]]}


def test_ints_bigints_bools_unicode_and_none_are_exact():
    conv = make_conv()
    conv.state.i = 1
    conv.state.f = 1.0
    conv.state.b = True
    conv.state.big = 2**100
    conv.state.neg_big = -(10**50)
    conv.state.text = "naïve ☃ 日本語 𝄞"
    conv.state.none = None
    exported = json.loads(json.dumps(conv._export_state(), ensure_ascii=False))
    assert type(exported["i"]) is int and type(exported["f"]) is float and type(exported["b"]) is bool
    assert exported["big"] == 2**100 and exported["neg_big"] == -(10**50)
    assert exported["text"] == "naïve ☃ 日本語 𝄞"
    assert "none" in exported and exported["none"] is None


class Thing:
    pass


class MyStr(str):
    pass


@pytest.mark.parametrize(
    "value, words",
    [
        ({1}, "a set cannot be stored; use a list"),
        (Thing(), "a value of type Thing cannot be stored"),
        (lambda: 1, "a function cannot be stored"),
        (float("nan"), "NaN cannot be stored"),
        (float("inf"), "infinity cannot be stored"),
        (b"x", "bytes cannot be stored"),
    ],
)
def test_top_level_unstorable_values_raise_at_once_naming_the_key(value, words):
    conv = make_conv()
    with pytest.raises(TypeError) as caught:
        conv.state.s = value
    assert isinstance(caught.value, UnstorableValue)
    assert caught.value.path == "state['s']"
    assert str(caught.value) == f"state['s']: {caught.value.reason}"
    assert words in str(caught.value)
    assert "s" not in conv.state  # nothing was stored
    with pytest.raises(UnstorableValue, match=r"state\['s'\]"):
        conv.state["s"] = value


def test_top_level_nested_unstorable_value_names_the_nested_place():
    conv = make_conv()
    with pytest.raises(UnstorableValue) as caught:
        conv.state.x = {"a": [0, 1, {2}]}
    assert caught.value.path == "state['x']['a'][2]"


def test_nested_unstorable_values_are_caught_at_export():
    conv = make_conv()
    conv.state.x = {"a": [0, 1, 2]}
    conv.state.x["a"][2] = {"set"}
    with pytest.raises(UnstorableValue) as caught:
        conv._export_state()
    assert caught.value.path == "state['x']['a'][2]"
    assert str(caught.value) == "state['x']['a'][2]: a set cannot be stored; use a list"


def test_a_cycle_made_after_assignment_is_caught_at_export():
    conv = make_conv()
    conv.state.x = []
    conv.state.x.append(conv.state.x)
    with pytest.raises(UnstorableValue, match="contains itself"):
        conv._export_state()


def test_depth_accepted_at_assignment_is_accepted_at_export():
    conv = make_conv()
    value: list = []
    for _ in range(62):
        value = [value]
    conv.state.deep = value  # 63 levels below the state dict: the most allowed
    conv._export_state()
    with pytest.raises(UnstorableValue, match="nested more than"):
        conv.state.deeper = [value]


def test_variable_names_must_be_str():
    conv = make_conv()
    with pytest.raises(UnstorableValue, match="variable name must be a str"):
        conv.state[1] = "x"
    conv.state[MyStr("k")] = MyStr("x")  # a StrEnum member names the variable it spells
    assert conv._export_state()["k"] == "x"
    assert all(type(key) is str for key in conv.state)


def test_state_class_is_registered_writable_for_the_guard():
    from sandbox.child import attributes

    assert State in attributes._ATTRIBUTE_WRITABLE
    for cls in (Conversation, Variant, Log, CartesiaVoice):
        assert cls not in attributes._ATTRIBUTE_WRITABLE


# -- read-only members -----------------------------------------------------------------


def test_plain_members():
    conv = make_conv(env="live", channel_type="sip.polyai", caller_number="+1555", callee_number="+1666")
    assert (conv.env, conv.channel_type, conv.caller_number, conv.callee_number) == (
        "live",
        "sip.polyai",
        "+1555",
        "+1666",
    )


def test_absent_plain_members_are_none():
    conv = make_conv()
    assert conv.env is None and conv.channel_type is None
    assert conv.caller_number is None and conv.callee_number is None


@pytest.mark.parametrize(
    "member", ["state", "env", "channel_type", "caller_number", "callee_number", "sip_headers", "variants", "utils"]
)
def test_members_cannot_be_reassigned(member):
    conv = make_conv()
    with pytest.raises(AttributeError):
        setattr(conv, member, "x")


def test_no_new_attributes_on_conv():
    with pytest.raises(AttributeError):
        make_conv().anything = 1


def test_public_surface_is_exactly_the_documented_one():
    conv = make_conv(function="start_function", variants=VARIANTS, variant="london", sip_headers={"X-A": "1"})
    public = {name for name in dir(conv) if not name.startswith("_")}
    assert public == {
        "state",
        "env",
        "channel_type",
        "caller_number",
        "callee_number",
        "sip_headers",
        "integration_attributes",
        "variants",
        "variant",
        "set_variant",
        "set_voice",
        "call_handoff",
        "utils",
    }
    assert {n for n in dir(conv.state) if not n.startswith("_")} == {"get"}
    assert {n for n in dir(conv.utils) if not n.startswith("_")} == {"get_secret"}
    assert {n for n in dir(conv.sip_headers) if not n.startswith("_")} == {"get", "keys", "values", "items"}
    assert {n for n in dir(conv.variant) if not n.startswith("_")} == set()
    assert {n for n in dir(Log({})) if not n.startswith("_")} == {"debug", "info", "warning", "error", "overflowed"}


# -- conv.sip_headers ------------------------------------------------------------------


def test_sip_headers_lookup_ignores_case():
    headers = make_conv(sip_headers={"X-Language": "es", "From": "<sip:a@b>"}).sip_headers
    assert headers.get("X-Language") == headers.get("x-language") == headers.get("X-LANGUAGE") == "es"
    assert headers["x-language"] == "es"
    assert "x-LANGUAGE" in headers
    assert "X-Missing" not in headers
    assert headers.get("X-Missing") is None
    assert headers.get("X-Missing", "en") == "en"
    with pytest.raises(KeyError):
        headers["X-Missing"]  # noqa: B018


def test_sip_headers_iterate_with_original_names():
    headers = make_conv(sip_headers={"X-Language": "es", "X-Site": "ldn"}).sip_headers
    assert list(headers) == ["X-Language", "X-Site"]
    assert headers.keys() == ["X-Language", "X-Site"]
    assert headers.values() == ["es", "ldn"]
    assert headers.items() == [("X-Language", "es"), ("X-Site", "ldn")]
    assert dict(headers) == {"X-Language": "es", "X-Site": "ldn"}
    assert len(headers) == 2 and headers


def test_sip_headers_are_read_only():
    headers = make_conv(sip_headers={"X-A": "1"}).sip_headers
    with pytest.raises(TypeError):
        headers["X-A"] = "2"  # type: ignore[index]
    with pytest.raises(TypeError):
        del headers["X-A"]  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        headers.extra = 1


def test_sip_headers_non_str_lookup_is_a_miss():
    headers = make_conv(sip_headers={"X-A": "1"}).sip_headers
    assert headers.get(1) is None and 1 not in headers
    assert headers.get(MyStr("x-a")) == "1"


def test_empty_sip_headers_default():
    assert make_conv().sip_headers.get("X-Language", "en") == "en"
    assert not make_conv().sip_headers


# -- conv.integration_attributes -----------------------------------------------------


def test_integration_attributes_in_start_function():
    conv = make_conv(function="start_function", integration_attributes={"shared_id": "abc", "n": 1})
    attributes = conv.integration_attributes
    assert attributes.get("shared_id") == "abc"
    assert attributes["n"] == 1 and "n" in attributes
    assert attributes.get("missing") is None
    assert dict(attributes) == {"shared_id": "abc", "n": 1}
    with pytest.raises(TypeError):
        attributes["x"] = 1  # type: ignore[index]


def test_integration_attributes_lookup_is_case_sensitive():
    conv = make_conv(function="start_function", integration_attributes={"Key": 1})
    assert conv.integration_attributes.get("key") is None


def test_integration_attributes_are_none_outside_start_function():
    conv = make_conv(function="lookup_booking", integration_attributes={"shared_id": "abc"})
    assert conv.integration_attributes is None


def test_empty_integration_attributes_are_falsy_in_start_function():
    conv = make_conv(function="start_function")
    assert conv.integration_attributes is not None
    assert not conv.integration_attributes


# -- conv.variants, conv.variant, conv.set_variant -------------------------------------


def test_variants_map_names_to_column_objects():
    conv = make_conv(variants=VARIANTS)
    assert conv.variants["london"].site_name == "London Bridge"
    assert conv.variants["london"]["site_name"] == "London Bridge"
    assert conv.variants["london"].missing_column is None
    assert "callee" in conv.variants["london"]
    callee_map = {variant.callee: name for name, variant in conv.variants.items()}
    assert callee_map == {"+441234567890": "london", "+442345678901": "new_york", "+10000000000": "default"}


def test_variant_is_the_current_variant_object():
    conv = make_conv(variants=VARIANTS, variant="new_york")
    assert conv.variant.site_name == "Fifth Avenue"


def test_variant_is_none_when_none_selected():
    assert make_conv(variants=VARIANTS).variant is None
    assert make_conv().variant is None


def test_set_variant_switches_and_records():
    conv = make_conv(variants=VARIANTS, variant="london")
    conv.set_variant("new_york")
    assert conv.variant.site_name == "Fifth Avenue"
    assert conv._effects() == {"variant": "new_york"}


def test_set_variant_unknown_name_raises_listing_known_ones():
    conv = make_conv(variants=VARIANTS)
    with pytest.raises(ValueError) as caught:
        conv.set_variant("paris")
    assert isinstance(caught.value, UnknownVariant)
    assert str(caught.value) == "unknown variant 'paris'; known variants: 'london', 'new_york', 'default'"
    assert conv._effects() == {}


def test_set_variant_without_configured_variants_records_unchecked():
    conv = make_conv()
    conv.set_variant("default")
    assert conv._effects() == {"variant": "default"}
    assert conv.variant is None


def test_set_variant_needs_a_str():
    conv = make_conv()
    with pytest.raises(TypeError, match="set_variant"):
        conv.set_variant(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="set_variant"):
        conv.set_variant(MyStr("london"))


def test_variants_and_variant_are_read_only():
    conv = make_conv(variants=VARIANTS, variant="london")
    with pytest.raises(AttributeError):
        conv.variant.site_name = "x"
    with pytest.raises(TypeError):
        conv.variants["paris"] = conv.variant  # type: ignore[index]
    with pytest.raises(AttributeError):
        conv.variant = conv.variants["new_york"]


# -- conv.set_voice and polyai.voice -----------------------------------------------------


def test_set_voice_records_plain_data():
    conv = make_conv()
    conv.set_voice(CartesiaVoice(provider_voice_id="your-voice-id"))
    assert conv._effects() == {"voice": {"provider": "cartesia", "provider_voice_id": "your-voice-id"}}


@pytest.mark.parametrize(
    "voice, plain",
    [
        (
            CartesiaVoice(provider_voice_id="a1", model_id="sonic", speed=0.0, volume=1, emotion="happy", language="en"),
            {
                "provider": "cartesia",
                "provider_voice_id": "a1",
                "model_id": "sonic",
                "speed": 0.0,
                "volume": 1,
                "emotion": "happy",
                "language": "en",
            },
        ),
        (
            ElevenLabsVoice(provider_voice_id="e1", stability=0.5, similarity_boost=0.7, latency_mode="swift"),
            {
                "provider": "elevenlabs",
                "provider_voice_id": "e1",
                "stability": 0.5,
                "similarity_boost": 0.7,
                "latency_mode": "swift",
            },
        ),
        (PlayHTVoice(provider_voice_id="p1", speed=1.2), {"provider": "playht", "provider_voice_id": "p1", "speed": 1.2}),
        (RimeVoice(provider_voice_id="r1", model_id="mist"), {"provider": "rime", "provider_voice_id": "r1", "model_id": "mist"}),
    ],
)
def test_every_voice_class(voice, plain):
    conv = make_conv()
    conv.set_voice(voice)
    assert conv._effects()["voice"] == plain
    assert voice.provider_voice_id == plain["provider_voice_id"]
    assert voice.provider == plain["provider"]


def test_voice_unset_optional_parameters_read_none_and_none_means_absent():
    voice = CartesiaVoice(provider_voice_id="a", model_id=None)
    assert voice.model_id is None and voice.speed is None
    assert voice._plain() == {"provider": "cartesia", "provider_voice_id": "a"}


@pytest.mark.parametrize(
    "build, error, words",
    [
        (lambda: CartesiaVoice(), TypeError, "needs provider_voice_id"),
        (lambda: CartesiaVoice("abc"), TypeError, "keyword arguments only"),
        (lambda: CartesiaVoice(provider_voice_id=""), ValueError, "must not be empty"),
        (lambda: CartesiaVoice(provider_voice_id=1), TypeError, "must be a str"),
        (lambda: CartesiaVoice(provider_voice_id="a", speed="fast"), TypeError, "must be a number"),
        (lambda: CartesiaVoice(provider_voice_id="a", speed=True), TypeError, "must be a number"),
        (lambda: CartesiaVoice(provider_voice_id="a", speed=float("nan")), ValueError, "finite"),
        (lambda: CartesiaVoice(provider_voice_id="a", pitch=1), TypeError, "unexpected keyword argument 'pitch'"),
        (lambda: ElevenLabsVoice(provider_voice_id="a", stability=1.5), ValueError, "from 0.0 to 1.0"),
        (lambda: RimeVoice(provider_voice_id=MyStr("a")), TypeError, "must be a str"),
    ],
)
def test_voice_constructor_validation(build, error, words):
    with pytest.raises(error, match=words):
        build()


def test_voices_are_immutable():
    voice = CartesiaVoice(provider_voice_id="a")
    with pytest.raises(AttributeError):
        voice.provider_voice_id = "b"
    with pytest.raises(AttributeError):
        del voice.provider_voice_id
    with pytest.raises(AttributeError):
        voice.not_a_parameter  # noqa: B018


def test_set_voice_refuses_anything_but_a_voice_class():
    conv = make_conv()

    class FakeVoice(CartesiaVoice):
        pass

    for bad in ({"provider": "cartesia", "provider_voice_id": "a"}, "voice", None, FakeVoice(provider_voice_id="a")):
        with pytest.raises(TypeError, match="set_voice expects a voice from polyai.voice"):
            conv.set_voice(bad)
    assert conv._effects() == {}


def test_voice_module_names():
    assert dict(VOICE_MODULE_NAMES) == {
        "CartesiaVoice": CartesiaVoice,
        "ElevenLabsVoice": ElevenLabsVoice,
        "PlayHTVoice": PlayHTVoice,
        "RimeVoice": RimeVoice,
    }
    with pytest.raises(TypeError):
        VOICE_MODULE_NAMES["Evil"] = object  # type: ignore[index]


def test_voice_repr():
    assert repr(CartesiaVoice(provider_voice_id="a", speed=0.5)) == "CartesiaVoice(provider_voice_id='a', speed=0.5)"


# -- conv.call_handoff -----------------------------------------------------------------


def test_call_handoff_records_given_arguments():
    conv = make_conv()
    conv.call_handoff(destination="front_desk", reason="needs_human", utterance="Let me transfer you.")
    assert conv._effects() == {
        "handoff": {"destination": "front_desk", "reason": "needs_human", "utterance": "Let me transfer you."}
    }


def test_call_handoff_all_optional_and_positional():
    conv = make_conv()
    conv.call_handoff()
    assert conv._effects() == {"handoff": {}}
    conv.call_handoff("billing", "policy_violation")
    assert conv._effects() == {"handoff": {"destination": "billing", "reason": "policy_violation"}}


def test_call_handoff_last_call_wins():
    conv = make_conv()
    conv.call_handoff(destination="a", utterance="one")
    conv.call_handoff(destination="b")
    assert conv._effects() == {"handoff": {"destination": "b"}}


@pytest.mark.parametrize("argument", ["destination", "reason", "utterance"])
def test_call_handoff_arguments_must_be_str(argument):
    with pytest.raises(TypeError, match=f"call_handoff\\({argument}=...\\) must be a str"):
        make_conv().call_handoff(**{argument: 5})


def test_effects_are_fresh_copies():
    conv = make_conv()
    conv.call_handoff(destination="a")
    conv._effects()["handoff"]["destination"] = "tampered"
    assert conv._effects() == {"handoff": {"destination": "a"}}


# -- conv.utils.get_secret ---------------------------------------------------------------


def test_get_secret_returns_the_value_and_records_the_name():
    conv = make_conv(secrets={"my_api_key": "s3cr3t", "other": "x"})
    assert conv.utils.get_secret("my_api_key") == "s3cr3t"
    conv.utils.get_secret("my_api_key")
    assert conv._secrets_used() == ["my_api_key"]


def test_missing_secret_raises_key_error_naming_it():
    conv = make_conv(secrets={"a": "1"})
    with pytest.raises(KeyError) as caught:
        conv.utils.get_secret("my_api_key")
    assert isinstance(caught.value, SecretNotFound)
    assert str(caught.value) == "secret 'my_api_key' is not configured for this tenant"
    assert conv._secrets_used() == []


def test_get_secret_needs_a_str():
    with pytest.raises(TypeError):
        make_conv().utils.get_secret(None)  # type: ignore[arg-type]


def test_utils_is_read_only_and_hides_the_table():
    conv = make_conv(secrets={"a": "1"})
    with pytest.raises(AttributeError):
        conv.utils.extra = 1
    assert "1" not in repr(conv.utils)


# -- log ---------------------------------------------------------------------------------


def test_log_levels_record_in_order():
    log = Log({})
    log.debug("d")
    log.info("i")
    log.warning("w")
    log.error("e")
    assert log._export() == [["debug", "d"], ["info", "i"], ["warning", "w"], ["error", "e"]]
    assert log.overflowed is False


def test_log_coerces_with_str_to_an_exact_str():
    class Shouty:
        def __str__(self):
            return MyStr("LOUD")

    log = Log({})
    log.info(42)
    log.info({"a": 1})
    log.info(Shouty())
    records = log._export()
    assert records == [["info", "42"], ["info", "{'a': 1}"], ["info", "LOUD"]]
    assert all(type(message) is str for _, message in records)


def test_log_escapes_lone_surrogates():
    log = Log({})
    log.info("bad \ud800 text")
    assert log._export() == [["info", "bad \\ud800 text"]]
    json.dumps(log._export(), ensure_ascii=False).encode("utf-8")


def test_log_record_cap():
    log = Log({"log_records": 2})
    for n in range(5):
        log.info(n)
    assert log._export() == [["info", "0"], ["info", "1"]]
    assert log.overflowed is True


def test_log_byte_cap_counts_the_json_form():
    log = Log({"log_bytes": 40})
    log.info("x" * 10)  # ["info","xxxxxxxxxx"] is 23 bytes, +1 separator
    log.info("y" * 10)  # would bring the total to 48
    log.info("z")  # dropped too: once overflowed, always overflowed
    assert log._export() == [["info", "x" * 10]]
    assert log.overflowed is True


def test_log_huge_message_overflows_without_encoding():
    log = Log({"log_bytes": 100})
    log.error("x" * 10_000_000)
    assert log._export() == [] and log.overflowed


def test_log_overflow_cannot_be_reset():
    log = Log({"log_records": 0})
    log.info("x")
    with pytest.raises(AttributeError):
        log.overflowed = False
    assert log.overflowed


def test_log_export_is_a_copy():
    log = Log({})
    log.info("a")
    log._export()[0][1] = "tampered"
    assert log._export() == [["info", "a"]]


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
    assert action == {
        "variant": "es",
        "voice": {"provider": "cartesia", "provider_voice_id": "your-voice-id"},
    }
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
        ('return "Tell the user that you cannot assist with their request"', {"content": "Tell the user that you cannot assist with their request"}),
        (
            'return {\n  "content": "Tell the user that you cannot assist with their request"\n}',
            {"content": "Tell the user that you cannot assist with their request"},
        ),
        ('return {\n  "utterance": "I cannot assist with your request."\n}', {"utterance": "I cannot assist with your request."}),
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
                    "dtmf": {"num_digits": 6, "finish_on_key": "#", "first_digit_timeout": 5, "inter_digit_timeout": 2, "is_pii": True},
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
            'Ask if there\'s anything else you can help with."\n}',
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


# -- property: any JSON-able state round-trips exactly ------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**256), max_value=2**256)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=50,
)


@pytest.mark.system  # a property over many generated examples: seconds, too long for the unit pass
@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=12), json_values, max_size=8))
def test_any_json_state_round_trips_exactly(state):
    conv = Conversation({"state": state}, function="t", secrets={}, log=Log({}))
    exported = json.loads(json.dumps(conv._export_state(), ensure_ascii=False))
    assert canonical(exported) == canonical(state)
    assert list(exported) == list(state)


@pytest.mark.system  # a property over many generated examples: seconds, too long for the unit pass
@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=12), json_values, max_size=8))
def test_assigning_any_json_value_round_trips_exactly(values):
    conv = Conversation({}, function="t", secrets={}, log=Log({}))
    for key, value in values.items():
        conv.state[key] = value
    exported = json.loads(json.dumps(conv._export_state()))
    assert canonical(exported) == canonical(values)
