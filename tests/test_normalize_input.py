"""sandbox.supervisor.normalize, the caller's side: validate_conversation and validate_args,
the supervisor's validation of the input a call is made with. The child's side (what it
replies) is in tests/test_normalize.py.
"""

from __future__ import annotations

import math

import pytest

from sandbox.errors import InvalidInput
from sandbox.supervisor.normalize import validate_args, validate_conversation

# -- validate_conversation ---------------------------------------------------------------


def test_defaults_are_filled():
    expected = {
        "state": {},
        "env": None,
        "channel_type": None,
        "caller_number": None,
        "callee_number": None,
        "sip_headers": {},
        "integration_attributes": {},
        "variants": {},
        "variant": None,
        "secrets": {},
    }
    assert validate_conversation(None) == expected
    assert validate_conversation({}) == expected
    assert validate_conversation(dict.fromkeys(expected)) == expected


def test_a_full_conversation_is_kept_and_copied():
    data = {
        "state": {"from_": "+1", "handoff": {"destination": "d"}, "n": [1, 2.5, True, None]},
        "env": "live",
        "channel_type": "sip.polyai",
        "caller_number": "+1",
        "callee_number": "+2",
        "sip_headers": {"X-Language": "es"},
        "integration_attributes": {"shared_id": "s", "nested": {"a": [1]}},
        "variants": {"london": {"site_name": "L", "n": 1}},
        "variant": "london",
        "secrets": {"api_key": "k"},
    }
    out = validate_conversation(data)
    assert out == data
    assert out["state"] is not data["state"] and out["state"]["n"] is not data["state"]["n"]


@pytest.mark.parametrize(
    "data, field, words",
    [
        ([], "conv", "must be a dict"),
        ({"foo": 1}, "conv.foo", "unknown key; conv takes: state, env"),
        ({"state": []}, "conv.state", "must be a dict"),
        ({"state": {"a": math.nan}}, "conv.state.a", "finite"),
        ({"state": {"a": [1, math.inf]}}, "conv.state.a[1]", "finite"),
        ({"state": {"a": {2: 1}}}, "conv.state.a", "keys must be str"),
        ({"state": {"a": "\udfff"}}, "conv.state.a", "lone surrogate"),
        ({"state": {"a": {1, 2}}}, "conv.state.a", "must be plain JSON data, got set"),
        ({"env": 1}, "conv.env", "must be a str"),
        ({"channel_type": ["sip"]}, "conv.channel_type", "must be a str"),
        ({"caller_number": 15550001}, "conv.caller_number", "must be a str, got int"),
        ({"callee_number": True}, "conv.callee_number", "must be a str"),
        ({"sip_headers": []}, "conv.sip_headers", "must be a dict"),
        ({"sip_headers": {"X-Foo": 1}}, "conv.sip_headers.X-Foo", "must be a str, got int"),
        ({"sip_headers": {"X-Foo": "a\r\nb"}}, "conv.sip_headers.X-Foo", "control characters"),
        ({"sip_headers": {"X Foo": "a"}}, "conv.sip_headers.X Foo", "not a valid SIP header name"),
        ({"sip_headers": {"": "a"}}, "conv.sip_headers.", "not a valid SIP header name"),
        ({"sip_headers": {"X-Foo": "a", "x-foo": "b"}}, "conv.sip_headers.x-foo", "ignore case"),
        ({"integration_attributes": "x"}, "conv.integration_attributes", "must be a dict"),
        ({"integration_attributes": {"a": math.nan}}, "conv.integration_attributes.a", "finite"),
        ({"variants": []}, "conv.variants", "must be a dict"),
        ({"variants": {"london": "L"}}, "conv.variants.london", "must be a dict"),
        ({"variants": {"": {}}}, "conv.variants", "must not be empty"),
        ({"variants": {"london": {"n": math.inf}}}, "conv.variants.london.n", "finite"),
        ({"variant": 1}, "conv.variant", "must be a str"),
        (
            {"variants": {"london": {}}, "variant": "paris"},
            "conv.variant",
            "unknown variant 'paris'; known variants: 'london'",
        ),
        ({"secrets": []}, "conv.secrets", "must be a dict"),
        ({"secrets": {"k": 1}}, "conv.secrets.k", "must be a str, got int"),
    ],
)
def test_invalid_conversations_name_the_field(data, field, words):
    with pytest.raises(InvalidInput) as caught:
        validate_conversation(data)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_variant_without_variants_is_accepted():
    assert validate_conversation({"variant": "default"})["variant"] == "default"


def test_secret_values_never_appear_in_errors():
    with pytest.raises(InvalidInput) as caught:
        validate_conversation({"secrets": {"ok": "hunter2", "bad": ["hunter3"]}})
    assert "hunter" not in str(caught.value)
    with pytest.raises(InvalidInput) as caught:
        validate_conversation({"secrets": {"bad": "hunter4\ud800"}})
    assert "hunter" not in str(caught.value)


def test_state_depth_cap_on_input():
    deep: list = []
    for _ in range(64):
        deep = [deep]
    with pytest.raises(InvalidInput, match="nested more than 64"):
        validate_conversation({"state": {"a": deep}})


# -- validate_args -----------------------------------------------------------------------


def test_args_object_array_and_none():
    assert validate_args({"a": 1, "b": [True, None]}) == {"a": 1, "b": [True, None]}
    assert validate_args([1, "x", {"k": 2.5}]) == [1, "x", {"k": 2.5}]
    assert validate_args(None) == {}


@pytest.mark.parametrize(
    "args, field",
    [("x", "args"), (1, "args"), ({"a": math.nan}, "args.a"), ([1, [math.inf]], "args[1][0]"), ({1: 1}, "args")],
)
def test_invalid_args(args, field):
    with pytest.raises(InvalidInput) as caught:
        validate_args(args)
    assert caught.value.field == field
