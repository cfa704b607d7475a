"""to_plain: exact plain-data conversion in the child, against friendly and hostile values."""

from __future__ import annotations

import datetime
import decimal
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.child.values import MAX_DEPTH, MAX_INT_BITS, UnstorableValue, to_plain
from sandbox.supervisor.normalize import canonical

# -- what is accepted --------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [None, True, False, 0, -1, 2**64, -(2**200), 0.0, -0.0, 1.5, 1e308, "", "héllo ☃ 𝄞", [], {}]
)
def test_scalars_and_empty_containers_pass_unchanged(value):
    out = to_plain(value, "v")
    assert type(out) is type(value)
    assert canonical(out) == canonical(value)


def test_types_are_kept_exactly():
    out = to_plain({"i": 1, "f": 1.0, "b": True, "n": None, "big": 10**40}, "v")
    assert [type(out[k]) for k in ("i", "f", "b", "n", "big")] == [int, float, bool, type(None), int]
    assert out["big"] == 10**40


def test_tuples_become_lists():
    assert to_plain((1, (2, 3), [4, (5,)]), "v") == [1, [2, 3], [4, [5]]]
    assert type(to_plain((1,), "v")) is list


def test_the_result_is_a_fresh_copy():
    inner = [1, 2]
    value = {"a": inner}
    out = to_plain(value, "v")
    assert out == value
    assert out is not value and out["a"] is not inner


def test_shared_but_acyclic_references_are_fine():
    shared = [1]
    assert to_plain({"a": shared, "b": shared}, "v") == {"a": [1], "b": [1]}


def test_nesting_up_to_the_cap_is_accepted():
    value: list = []
    for _ in range(MAX_DEPTH - 1):
        value = [value]
    to_plain(value, "v")


def test_largest_int_is_accepted_and_survives_json():
    big = 2**MAX_INT_BITS - 1
    assert json.loads(json.dumps(to_plain(big, "v"))) == big


# -- what is refused, and where it is named -----------------------------------------------


class MyStr(str):
    pass


class MyInt(int):
    pass


class MyDict(dict):
    pass


class MyList(list):
    pass


class Thing:
    pass


def _function():
    return 1


@pytest.mark.parametrize(
    "value, words",
    [
        ({1, 2}, "a set cannot be stored; use a list"),
        (frozenset(), "a set cannot be stored"),
        (b"x", "bytes cannot be stored"),
        (bytearray(b"x"), "bytes cannot be stored"),
        (Thing(), "a value of type Thing cannot be stored"),
        (Thing, "a class cannot be stored"),
        (_function, "a function cannot be stored"),
        (lambda: 1, "a function cannot be stored"),
        (print, "a function cannot be stored"),
        (json, "a module cannot be stored"),
        (math.nan, "NaN cannot be stored"),
        (math.inf, "infinity cannot be stored"),
        (-math.inf, "infinity cannot be stored"),
        (range(3), "a range cannot be stored; use list(...)"),
        ((i for i in range(3)), "a generator cannot be stored; use list(...)"),
        ({}.keys(), "a dict_keys cannot be stored; use list(...)"),
        (datetime.datetime(2024, 1, 1), "a datetime cannot be stored; convert it to a str"),
        (datetime.date(2024, 1, 1), "a date cannot be stored"),
        (decimal.Decimal("1.5"), "a Decimal cannot be stored"),
        (1j, "a value of type complex cannot be stored"),
        ("\ud800", "lone surrogate"),
        (2 ** (MAX_INT_BITS + 1), "an int of"),
    ],
)
def test_unstorable_values_are_refused_with_a_clear_reason(value, words):
    with pytest.raises(UnstorableValue) as caught:
        to_plain(value, "state['x']")
    assert caught.value.path == "state['x']"
    assert words in str(caught.value)
    assert str(caught.value).startswith("state['x']: ")


def test_unstorable_value_is_a_type_error():
    assert issubclass(UnstorableValue, TypeError)


def test_the_path_names_the_nested_place():
    with pytest.raises(UnstorableValue) as caught:
        to_plain({"a": [0, 1, {"b": {1, 2}}]}, "state['x']")
    assert caught.value.path == "state['x']['a'][2]['b']"
    assert str(caught.value) == "state['x']['a'][2]['b']: a set cannot be stored; use a list"


def test_non_str_dict_keys_are_refused_at_the_containing_dict():
    with pytest.raises(UnstorableValue) as caught:
        to_plain({"a": {1: "x"}}, "state['x']")
    assert caught.value.path == "state['x']['a']"
    assert "keys must be str" in caught.value.reason


def test_subclasses_of_plain_types_are_stored_as_their_plain_values():
    # As json.dumps stores a StrEnum member, a Counter or a namedtuple.
    import collections
    import enum

    class Intent(enum.StrEnum):
        BOOK = "book"

    class Priority(enum.IntEnum):
        HIGH = 2

    Point = collections.namedtuple("Point", "x y")
    value = {
        MyStr("k"): [
            MyStr("x"),
            MyInt(1),
            MyDict(a=MyList([1])),
            Intent.BOOK,
            Priority.HIGH,
            collections.Counter("aab"),
            Point(1, 2),
            collections.OrderedDict(b=1),
        ]
    }
    out = to_plain(value, "v")
    assert out == {"k": ["x", 1, {"a": [1]}, "book", 2, {"a": 2, "b": 1}, [1, 2], {"b": 1}]}
    assert [type(v) for v in out["k"][:5]] == [str, int, dict, str, int]
    assert type(next(iter(out))) is str


def test_lone_surrogate_in_a_key_is_refused():
    with pytest.raises(UnstorableValue, match="lone surrogate"):
        to_plain({"\udfff": 1}, "v")


def test_long_keys_are_shortened_in_paths():
    key = "k" * 500
    with pytest.raises(UnstorableValue) as caught:
        to_plain({key: {1}}, "v")
    assert len(caught.value.path) < 80


def test_too_deep_nesting_is_refused():
    value: list = []
    for _ in range(MAX_DEPTH):
        value = [value]
    with pytest.raises(UnstorableValue, match="nested more than 64 levels"):
        to_plain(value, "v")


def test_depth_cap_is_adjustable():
    with pytest.raises(UnstorableValue, match="nested more than 2 levels"):
        to_plain([[[1]]], "v", max_depth=2)


def test_a_list_containing_itself_is_refused():
    loop: list = []
    loop.append(loop)
    with pytest.raises(UnstorableValue, match="contains itself") as caught:
        to_plain({"a": loop}, "state")
    assert caught.value.path == "state['a'][0]"


def test_a_dict_containing_itself_is_refused():
    loop: dict = {}
    loop["me"] = loop
    with pytest.raises(UnstorableValue, match="contains itself"):
        to_plain(loop, "v")


def test_exponential_sharing_is_stopped_by_the_value_budget():
    # 2**40 paths through 40 shared nodes: without a budget this would never finish.
    value: list = [1]
    for _ in range(40):
        value = [value, value]
    with pytest.raises(UnstorableValue, match="too large"):
        to_plain(value, "v", max_values=10_000)


# -- hostile values: no tool-defined method may run ----------------------------------------


class Tripwire(Exception):
    pass


class LyingStr(str):
    def __eq__(self, other):
        raise Tripwire("__eq__")

    def __hash__(self):
        raise Tripwire("__hash__")

    def __str__(self):
        raise Tripwire("__str__")

    def __repr__(self):
        raise Tripwire("__repr__")

    def __iter__(self):
        raise Tripwire("__iter__")

    def __len__(self):
        raise Tripwire("__len__")


class LyingDict(dict):
    def items(self):
        raise Tripwire("items")

    def __iter__(self):
        raise Tripwire("__iter__")

    def __getitem__(self, key):
        raise Tripwire("__getitem__")

    def __len__(self):
        raise Tripwire("__len__")


class LyingList(list):
    def __iter__(self):
        raise Tripwire("__iter__")

    def __len__(self):
        raise Tripwire("__len__")

    def __getitem__(self, index):
        raise Tripwire("__getitem__")


class ClassLiar:
    """An object claiming to be a dict through a __class__ property."""

    @property
    def __class__(self):
        raise Tripwire("__class__")

    def __getattr__(self, name):
        raise Tripwire(name)


class FloatLiar(float):
    def __float__(self):
        raise Tripwire("__float__")


@pytest.mark.parametrize(
    "make",
    [lambda: LyingStr("x"), lambda: LyingDict(a=1), lambda: LyingList([1]), ClassLiar, lambda: FloatLiar(1.0)],
    ids=["str", "dict", "list", "__class__", "float"],
)
def test_hostile_values_are_converted_without_running_their_methods(make):
    # Built inside the test: pytest itself would trip ClassLiar while collecting. A
    # subclass of a plain type is read through the base type's C methods (Tripwire never
    # fires); anything else is refused, also without running its methods.
    value = make()
    if isinstance(type(value), type) and issubclass(type(value), (str, dict, list, float)):
        out = to_plain({"nested": [value]}, "state['x']")
        assert out["nested"][0] in ("x", {"a": 1}, [1], 1.0)
    else:
        with pytest.raises(UnstorableValue):
            to_plain({"nested": [value]}, "state['x']")


def test_hostile_key_is_converted_without_hashing_or_comparing_it():
    # A dict hashes a key only on insertion, so insert a well-behaved str subclass and
    # then swap its class for the lying one: conversion reads its characters untouched.
    class Stable(str):
        pass

    key = Stable("k")
    value = {key: 1}
    key.__class__ = LyingStr
    assert to_plain(value, "v") == {"k": 1}


# -- properties ------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**300), max_value=2**300)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_plain_value_round_trips_exactly(value):
    out = to_plain(value, "v")
    assert canonical(json.loads(json.dumps(out))) == canonical(value)


@pytest.mark.system  # a property over many generated examples: seconds, too long for the unit pass
@settings(max_examples=200, deadline=None)
@given(
    st.recursive(st.one_of(st.sets(st.integers()), st.binary(), st.builds(object)), lambda c: st.lists(c, min_size=1))
)
def test_unstorable_leaves_always_raise_only_unstorable_value(value):
    with pytest.raises(UnstorableValue):
        to_plain(value, "v")
