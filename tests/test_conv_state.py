"""conv.state, called directly: reads (a never-set variable reads None every way), writes
and deletes, what may be stored and where an unstorable value is caught, and, as
properties, that any JSON-able state round-trips exactly.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.child.conv import Conversation, State, UnstorableValue, Variant
from sandbox.child.logs import Log
from sandbox.child.voice import CartesiaVoice
from sandbox.supervisor.normalize import canonical, validate_conversation
from tests.conv_support import MyStr, make_conv

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
        state._anything
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
