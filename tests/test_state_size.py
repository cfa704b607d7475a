"""A conversation's state costs work in proportion to its size, once, and what changed
travels (issue 18).

Never timed: each property is asserted on sizes or on counts of operations (a walk that
formats a path per value, a comparison per variable, a reply that grows with the state),
so that the tests say the same on a loaded machine.
"""

from __future__ import annotations

import enum
import json
import marshal
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox import plaindata
from sandbox.child import conv as conv_module
from sandbox.child import values
from sandbox.child.conv import Conversation
from sandbox.compile.compiler import compile_bundle
from sandbox.errors import InvalidInput
from sandbox.policy import Limits
from sandbox.result import Status, Usage
from sandbox.supervisor import verdict
from sandbox.supervisor.call import CallRequest, prepare, validate_input
from sandbox.supervisor.normalize import validate_conversation
from tests.conftest import run_source

CAP = Limits().state_bytes  # 1 MiB


def padded_state(size: int) -> dict:
    """About ``size`` bytes of JSON: 100-byte values under distinct keys, as the bench's."""
    return {f"var_{i:05d}": "v" * 100 for i in range(size // 116)}


def json_size(value) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


class Counter:
    """Wraps a function and counts its calls."""

    def __init__(self, function):
        self.function, self.calls = function, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.function(*args, **kwargs)


# -- the supervisor's side: checking, copying, comparing, applying -------------------------


def test_checking_a_big_state_builds_no_path_and_walks_each_container_once(monkeypatch):
    state = {**padded_state(200_000), "nested": {"a": [1, 2.5, None, True, {"b": "é"}]}}
    walks = Counter(plaindata._is_plain)
    monkeypatch.setattr(plaindata, "_is_plain", walks)
    monkeypatch.setattr(plaindata, "_explain", lambda *a: pytest.fail("a path was built for plain data"))
    copy = plaindata.plain_copy(state, "state")
    assert copy == state and copy is not state and copy["nested"]["a"] is not state["nested"]["a"]
    assert walks.calls == 4  # the state, "nested", its list and the dict in it: never once per value


@pytest.mark.parametrize(
    "value, field, words",
    [
        ({"a": [1, {"b": math.inf}]}, "state.a[1].b", "finite"),
        ({"a": {1: 2}}, "state.a", "keys must be str"),
        ({"a": "\ud800"}, "state.a", "lone surrogate"),
        ({"a": (1, 2)}, "state.a", "got tuple"),
        ({"a": 2**15000}, "state.a", "int too large"),
    ],
)
def test_a_refusal_still_names_the_value(value, field, words):
    with pytest.raises(plaindata.NotPlain) as caught:
        plaindata.check_plain({**padded_state(20_000), **value}, "state")
    assert caught.value.field == field and words in caught.value.message


def test_state_changes_compare_each_variable_once_and_strings_without_a_walk(monkeypatch):
    before = padded_state(500_000)
    after = {**before, "var_00003": "changed", "new": 1}
    del after["var_00001"]
    same = Counter(plaindata.same)
    monkeypatch.setattr(plaindata, "same", same)
    assert plaindata.state_changes(before, after) == {
        "set": {"var_00003": "changed", "new": 1},
        "deleted": ["var_00001"],
    }
    assert same.calls == 0  # equal strings are the same JSON: no typed walk
    lists = {f"k{i}": [i, float(i)] for i in range(1000)}
    plaindata.state_changes(lists, json.loads(json.dumps(lists)))
    assert same.calls == 3000  # one typed comparison per value: each list and its two items


def test_applying_changes_costs_the_size_of_the_changes(monkeypatch):
    before = padded_state(CAP - 4096)
    same = Counter(plaindata.same)
    walks = Counter(plaindata._is_plain)
    monkeypatch.setattr(plaindata, "same", same)
    monkeypatch.setattr(plaindata, "_is_plain", walks)
    after, changes = plaindata.apply_changes(before, {"var_00002": "v" * 100, "x": [1]}, ["var_00004"])
    assert changes == {"set": {"x": [1]}, "deleted": ["var_00004"]}  # var_00002 got its old value back
    assert same.calls == 1 and walks.calls == 2  # the assigned dict and its one list
    assert len(after) == len(before) and "var_00004" not in after and after["x"] == [1]
    assert before["var_00004"] == "v" * 100  # the state this call sent is left as it was


def test_applied_changes_keep_the_order_the_child_reports():
    before = {"a": 1, "b": 2, "c": 3}
    after, changes = plaindata.apply_changes(before, {"a": 1, "d": 4}, [], ["b", "c", "a", "d"])
    assert list(after) == ["b", "c", "a", "d"]
    assert changes == {"set": {"d": 4}, "deleted": []}


@pytest.mark.parametrize(
    "assigned, deleted, order",
    [
        ([], [], None),  # not a dict
        ({"a": math.inf}, [], None),  # not plain (what json.loads makes of 1e999)
        ({"a": "\udc00"}, [], None),
        ({}, "a", None),  # deletions not a list
        ({}, ["zz"], None),  # a variable it never had
        ({}, ["a", "a"], None),  # twice
        ({"a": 2}, ["a"], None),  # both set and deleted
        ({}, [1], None),
        ({}, [], ["a"]),  # the order misses a variable
        ({}, [], ["a", "b", "b"]),
        ({}, [], "ab"),
    ],
)
def test_a_childs_malformed_changes_are_refused(assigned, deleted, order):
    with pytest.raises(plaindata.NotPlain):
        plaindata.apply_changes({"a": 1, "b": 2}, assigned, deleted, order)


def test_a_change_nested_past_the_depth_cap_is_refused():
    deep: list = []
    for _ in range(plaindata.MAX_DEPTH - 2):
        deep = [deep]  # 63 lists, the outermost one level below the state: as deep as allowed
    plaindata.apply_changes({}, {"ok": deep}, [])
    with pytest.raises(plaindata.NotPlain, match="nested more than 64"):
        plaindata.apply_changes({}, {"deep": [deep]}, [])


def test_a_conversation_is_checked_once_at_the_edge(monkeypatch):
    bundle = compile_bundle({"tool.py": "def tool(conv):\n    return 'ok'\n"})
    conversation = {"state": padded_state(100_000), "variants": {"a": {"n": 1}}}
    walked = []
    is_plain = plaindata._is_plain
    monkeypatch.setattr(
        plaindata, "_is_plain", lambda value, depth: walked.append(len(value)) or is_plain(value, depth)
    )
    state_walks = lambda: walked.count(len(conversation["state"]))  # noqa: E731
    checked = validate_input(conversation)
    assert state_walks() == 1
    prepare(CallRequest(tenant="t", bundle=bundle, function="tool", input=checked)).frame()
    assert state_walks() == 1  # prepare and the frame take the checked input as it is
    with pytest.raises(InvalidInput, match="input"):  # and take nothing else
        prepare(CallRequest(tenant="t", bundle=bundle, function="tool", input=conversation))


def test_an_owned_conversation_is_checked_where_it_lies():
    parsed = json.loads(json.dumps({"state": {"a": [1]}}))
    assert validate_conversation(parsed, owned=True)["state"] is parsed["state"]
    assert validate_conversation(parsed)["state"] is not parsed["state"]


# -- the child's side: what changed, found without exporting the whole state --------------


def child_conv(state: dict) -> Conversation:
    """A Conversation as the runtime builds it: on a freshly decoded request, not copied."""
    request = marshal.loads(marshal.dumps({"state": state}))
    return Conversation(request, function="tool", secrets={}, copy_state=False)


def test_an_untouched_big_state_costs_no_comparison_and_no_conversion(monkeypatch):
    conv = child_conv(padded_state(CAP - 4096))
    conv.state.var_00007 = "new"
    compared = Counter(values.same_plain)
    shown = Counter(values.show_key)
    monkeypatch.setattr(conv_module, "same_plain", compared)
    monkeypatch.setattr(values, "show_key", shown)
    assert conv._export_changes() == {"set": {"var_00007": "new"}, "deleted": []}
    assert compared.calls == 1 and shown.calls == 0


class Colour(enum.StrEnum):
    RED = "red"


def test_every_kind_of_change_is_reported_and_nothing_else():
    conv = child_conv(
        {
            "s": "a",
            "n": 1,
            "f": 0.0,
            "items": [1, 2],
            "d": {"k": "v"},
            "same": [1],
            "gone": 1,
            "moved": 1,
            "enum": "red",
            "t": True,
        }
    )
    state = conv.state
    state.items.append(3)  # in place, in a container the request held
    state.d["k"] = "v"  # in place, to its old value
    state.same = [1]  # another list, equal
    state.n = 1.0  # equal under ==, another JSON value
    state.f = -0.0
    state.t = 1
    state.enum = Colour.RED  # stored as its plain value: "red", the same
    del state.gone
    del state.moved
    state.moved = 1  # deleted and set again: it moved to the end
    state.new = (1, 2)  # a tuple is stored as a list
    changes = conv._export_changes()
    # "moved" is the very int object it was (small ints are shared): unchanged, only moved.
    assert changes["set"] == {"n": 1.0, "f": -0.0, "items": [1, 2, 3], "enum": "red", "t": 1, "new": [1, 2]}
    assert changes["deleted"] == ["gone"]
    assert changes["order"] == ["s", "n", "f", "items", "d", "same", "enum", "t", "moved", "new"]
    before = {
        "s": "a",
        "n": 1,
        "f": 0.0,
        "items": [1, 2],
        "d": {"k": "v"},
        "same": [1],
        "gone": 1,
        "moved": 1,
        "enum": "red",
        "t": True,
    }
    after, reported = plaindata.apply_changes(before, changes["set"], changes["deleted"], changes["order"])
    assert list(after) == changes["order"]
    assert reported == {"set": {"n": 1.0, "f": -0.0, "items": [1, 2, 3], "t": 1, "new": [1, 2]}, "deleted": ["gone"]}


def test_an_unstorable_value_in_a_changed_container_is_named_as_before():
    conv = child_conv({"x": {"a": [1, 2, 3]}})
    conv.state.x["a"][2] = {1}
    with pytest.raises(values.UnstorableValue, match=r"state\['x'\]\['a'\]\[2\]: a set cannot be stored"):
        conv._export_changes()


def test_comparing_never_runs_the_tools_methods():
    calls = []

    class Sly(str):
        def __hash__(self):
            calls.append("hash")
            return str.__hash__(self)

        def __eq__(self, other):
            calls.append("eq")
            return str.__eq__(self, other)

    conv = child_conv({"d": {"k": "v"}, "l": ["a"]})
    conv.state.d[Sly("k2")] = "v"  # the tool's own hashing, while the tool runs
    conv.state.l[0] = Sly("a")
    calls.clear()
    changes = conv._export_changes()
    assert calls == []
    assert changes["set"] == {"d": {"k": "v", "k2": "v"}, "l": ["a"]}
    assert all(type(key) is str for key in changes["set"]["d"])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)
json_states = st.dictionaries(st.text(max_size=6), json_values, max_size=8)


@pytest.mark.system  # a property over many generated examples: seconds, too long for the unit pass
@settings(max_examples=300, deadline=None)
@given(json_states, json_states)
def test_the_changes_a_child_reports_rebuild_the_state_exactly(before, target):
    """Whatever a tool does, the supervisor's rebuilt state is the tool's state, key order
    included, and the reported changes are those between the two states."""
    conv = child_conv(before)
    for key in list(conv.state):
        if key not in target:
            del conv.state[key]
    for key, value in target.items():
        if key not in before or not plaindata.same(before[key], value):
            conv.state[key] = marshal.loads(marshal.dumps(value))
        elif type(value) is list and value:
            conv.state[key].append(None)  # changed in place, then changed back
            conv.state[key].pop()
    changes = conv._export_changes()
    after, reported = plaindata.apply_changes(before, changes["set"], changes["deleted"], changes.get("order"))
    assert plaindata.canonical(after) == plaindata.canonical(dict(conv.state._data))
    assert list(after) == list(conv.state)
    assert reported == plaindata.state_changes(before, after)


# -- end to end: the reply, the verdict, the pool --------------------------------------------


def run_in_process(source: str, state: dict, function: str = "tool"):
    # Imported here: sandbox.child.entry refuses copies of the runtime's classes for the
    # whole process, which dataclasses.asdict of a Result in another module's tests trips.
    from sandbox.child.entry import run_request

    call = prepare(
        CallRequest(
            tenant="t",
            bundle=compile_bundle({"tool.py": source}),
            function=function,
            input=validate_input({"state": state}),
        )
    )
    code, request = marshal.loads(call.frame())
    reply = json.dumps(run_request(request, code)).encode()
    return call, reply


def test_the_reply_grows_with_what_changed_not_with_the_state():
    small = run_in_process("def tool(conv):\n    conv.state.n = 1\n", padded_state(1_000))[1]
    big = run_in_process("def tool(conv):\n    conv.state.n = 1\n", padded_state(CAP - 4096))[1]
    assert len(big) - len(small) < 64  # the same few hundred bytes, for a state 1000 times larger


def test_the_supervisor_holds_the_state_to_its_cap():
    call, reply = run_in_process("def tool(conv):\n    conv.state.more = 'x' * 200_000\n", padded_state(CAP - 100_000))
    result = verdict.from_reply(call, reply, Usage())
    assert result.status is Status.OUTPUT_LIMIT and result.error.message == f"the state exceeds {CAP} bytes"
    assert result.state == call.state_before and result.state_changes == {"set": {}, "deleted": []}


def test_a_hostile_reply_cannot_change_the_state_it_did_not_send():
    call, _ = run_in_process("def tool(conv):\n    pass\n", {"a": 1})
    for change in (
        '"state_set":{},"state_deleted":["b"]',
        '"state_set":[],"state_deleted":[]',
        '"state_set":{"a":1e999},"state_deleted":[]',
    ):  # json.loads makes inf of 1e999
        reply = ('{"outcome":"returned","return":null,"effects":{},"logs":[],' + change + "}").encode()
        result = verdict.from_reply(call, reply, Usage())
        assert result.status is Status.RUNTIME_ERROR and result.error.kind == "StateValueError"
        assert result.state == {"a": 1}


def test_the_states_json_is_encoded_once_and_is_the_state():
    call, reply = run_in_process("def tool(conv):\n    conv.state.n = 2\n", {"a": "é", "n": 1})
    result = verdict.from_reply(call, reply, Usage())
    assert result.ok and "state_json" in result.__dict__  # measured against the cap, kept: not encoded again
    assert json.loads(result.state_json) == result.state == {"a": "é", "n": 2}


def test_a_state_just_under_the_cap_round_trips_intact(pool):
    state = padded_state(CAP - 2048)
    state["nested"] = {"list": list(range(50)), "text": "naïve ☃"}
    source = (
        "def tool(conv):\n    conv.state.nested['list'].append(50)\n    del conv.state.var_00000\n"
        "    conv.state.greeting = 'hi'\n"
    )
    r = run_source(pool, source, conversation={"state": state})
    assert r.status is Status.OK, r.error
    expected = {key: value for key, value in state.items() if key != "var_00000"}
    expected["nested"] = {"list": list(range(51)), "text": "naïve ☃"}
    expected["greeting"] = "hi"
    assert r.state == expected and list(r.state) == list(expected)
    assert r.state_changes == {"set": {"nested": expected["nested"], "greeting": "hi"}, "deleted": ["var_00000"]}
    assert json_size(r.state) < CAP and json.loads(r.state_json) == expected


def test_a_state_over_the_cap_by_what_the_tool_adds_is_an_output_limit(pool):
    state = padded_state(CAP - 50_000)
    r = run_source(pool, "def tool(conv):\n    conv.state.extra = 'x' * 100_000\n", conversation={"state": state})
    assert r.status is Status.OUTPUT_LIMIT and "the state exceeds" in r.error.message
    assert r.state == state and r.state_changes == {"set": {}, "deleted": []}


# Any JSON a hostile child can write, shaped like a reply: known keys with values of any type.
_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_REPLY_KEYS = (
    "outcome",
    "status",
    "error",
    "return",
    "effects",
    "logs",
    "log_overflow",
    "state_set",
    "state_deleted",
    "state_order",
    "usage",
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(_REPLY_KEYS), _ANY_JSON, max_size=len(_REPLY_KEYS)),
    st.sampled_from(["returned", "failed"]),
)
def test_any_reply_a_child_writes_becomes_a_result_never_an_exception(reply, outcome):
    call, _ = run_in_process("def tool(conv):\n    pass\n", {"a": 1})
    for shaped in (reply, {**reply, "outcome": outcome}):
        result = verdict.from_reply(call, json.dumps(shaped).encode(), Usage())
        assert isinstance(result.status, Status)
        if not result.ok:
            assert result.state == {"a": 1}  # a failed call leaves the state it was sent


def test_an_unhashable_status_is_an_internal_error():
    call, _ = run_in_process("def tool(conv):\n    pass\n", {})
    for status in ([], {}, [["x"]]):
        reply = json.dumps({"outcome": "failed", "status": status}).encode()
        assert verdict.from_reply(call, reply, Usage()).status is Status.INTERNAL_ERROR
