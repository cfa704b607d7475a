"""The objects a tool sees in the child, called directly: conv (its read-only members,
sip_headers, integration_attributes, the variants, set_voice and polyai.voice,
call_handoff, utils.get_secret) and log.

conv.state has its own file, tests/test_conv_state.py; tests/test_conv_seeds.py runs every
code example of the platform docs across this layer, end to end.
"""

from __future__ import annotations

import json

import pytest

from sandbox.child.conv import SecretNotFound, UnknownVariant
from sandbox.child.logs import Log
from sandbox.child.voice import VOICE_MODULE_NAMES, CartesiaVoice, ElevenLabsVoice, PlayHTVoice, RimeVoice
from tests.conv_support import VARIANTS, MyStr, make_conv

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
        headers["X-Missing"]


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
            CartesiaVoice(
                provider_voice_id="a1", model_id="sonic", speed=0.0, volume=1, emotion="happy", language="en"
            ),
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
        (
            PlayHTVoice(provider_voice_id="p1", speed=1.2),
            {"provider": "playht", "provider_voice_id": "p1", "speed": 1.2},
        ),
        (
            RimeVoice(provider_voice_id="r1", model_id="mist"),
            {"provider": "rime", "provider_voice_id": "r1", "model_id": "mist"},
        ),
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
        voice.not_a_parameter


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
