"""Plain JSON data in the supervisor: check it, copy it, compare it, in time linear in its size.

Runs in the trusted supervisor and sees plain data only (what ``json.loads`` makes, or a
caller's dicts and lists), never a tool object. *Plain JSON data* is an exact ``dict``
(``str`` keys), ``list``, ``str`` (valid UTF-8: no lone surrogate), ``int`` (at most
``MAX_INT_BITS`` bits), finite ``float``, ``bool`` or ``None``, with containers nested at
most ``MAX_DEPTH`` deep. Everything refused raises ``NotPlain(field, message)`` naming the
first bad value with a dotted path (``state.a[1].b``); ``sandbox.supervisor.normalize`` raises the
same type for its other checks and translates it at its public functions.

Why a module of its own: a conversation's state (up to ``Limits.state_bytes``, 1 MiB)
crosses this code on every call, so every walk here is written for the common case. The
check visits each value once with no per-value allocation, and only a refusal walks again
to build the path it names (``_explain``); a copy is made by ``marshal`` in C once the
check has passed; two values are compared in place (``same``) instead of by encoding each
variable to JSON twice, which cost about 2 µs per variable (issue 18: 1.6 ms of a 100 KiB
state's 4.8 ms); and a child's report of what it changed is applied to the state the
supervisor sent (``apply_changes``), in time proportional to the changes, so that the
state does not come back whole.
"""

from __future__ import annotations

import json
import marshal
import math
from collections.abc import Iterable, Mapping
from typing import Any

MAX_DEPTH = 64  # containers below the root; the same cap as sandbox/child/values.py
MAX_INT_BITS = 14_000  # past ~14284 bits CPython refuses int<->str, so JSON would break
_KEY_SHOWN_CHARS = 40
_MISSING = object()


class NotPlain(Exception):
    """A value that fails a check: ``field`` says where (dotted), ``message`` why."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def join(field: str, key: str) -> str:
    if len(key) > _KEY_SHOWN_CHARS:
        key = key[:_KEY_SHOWN_CHARS] + "..."
    return f"{field}.{key}" if field else key


def kind(value: Any) -> str:
    return "None" if value is None else type(value).__name__


def utf8(text: str, field: str) -> str:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise NotPlain(field, "not valid UTF-8 (contains a lone surrogate)") from None
    return text


def finite(value: float, field: str) -> float:
    if not math.isfinite(value):
        raise NotPlain(field, "must be a finite number")
    return value


def key(key: Any, field: str) -> str:
    if type(key) is not str:
        raise NotPlain(field, f"keys must be str, got {kind(key)}")
    return utf8(key, field)


# -- checking and copying ----------------------------------------------------------------


def check_plain(value: Any, field: str) -> Any:
    """``value`` itself if it is plain JSON data, else ``NotPlain``. For data the caller
    owns alone (what its own ``json.loads`` just made): nothing is copied."""
    if not _is_plain(value, 0):
        _explain(value, field, 0)
        raise NotPlain(field, "must be plain JSON data")  # _explain found it: never reached
    return value


def plain_copy(value: Any, field: str) -> Any:
    """A fresh deep copy of ``value`` if it is plain JSON data, else ``NotPlain``."""
    check_plain(value, field)
    # Checked: exact builtin types only, nested at most MAX_DEPTH deep (far below marshal's
    # own limit), so marshal's round trip is an exact copy, made in C.
    return marshal.loads(marshal.dumps(value))


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_plain(value: Any, depth: int) -> bool:
    """The check of ``_explain``, without building a path or a copy: the common case."""
    cls = type(value)
    if cls is dict:
        if depth >= MAX_DEPTH:
            return False
        for name in value:
            if type(name) is not str or not (name.isascii() or _encodes(name)):
                return False
        return _all_plain(value.values(), depth + 1)
    if cls is list:
        return depth < MAX_DEPTH and _all_plain(value, depth + 1)
    return _all_plain((value,), depth)


def _all_plain(items: Iterable[Any], depth: int) -> bool:
    for item in items:
        cls = type(item)
        if cls is str:
            if not item.isascii() and not _encodes(item):
                return False
        elif cls is dict or cls is list:
            if not _is_plain(item, depth):
                return False
        elif cls is int:
            if item.bit_length() > MAX_INT_BITS:
                return False
        elif cls is float:
            if not math.isfinite(item):
                return False
        elif item is not None and cls is not bool:
            return False
    return True


def _explain(value: Any, field: str, depth: int) -> None:
    """Walk ``value`` as ``_is_plain`` does, raising ``NotPlain`` at the first value it refuses."""
    cls = type(value)
    if value is None or cls is bool:
        return
    if cls is str:
        utf8(value, field)
    elif cls is int:
        if value.bit_length() > MAX_INT_BITS:
            raise NotPlain(field, f"int too large (more than {MAX_INT_BITS} bits)")
    elif cls is float:
        finite(value, field)
    elif cls is dict or cls is list:
        if depth >= MAX_DEPTH:
            raise NotPlain(field, f"nested more than {MAX_DEPTH} levels deep")
        if cls is list:
            for i, item in enumerate(value):
                _explain(item, f"{field}[{i}]", depth + 1)
        else:
            for name, item in value.items():
                _explain(item, join(field, key(name, field)), depth + 1)
    else:
        raise NotPlain(field, f"must be plain JSON data, got {kind(value)}")


# -- comparing -------------------------------------------------------------------------


def canonical(value: Any) -> str:
    """A text form of plain data in which equal means the same JSON: ``1``, ``1.0`` and
    ``True`` all differ, while dict key order does not matter."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def same(a: Any, b: Any) -> bool:
    """``canonical(a) == canonical(b)`` for checked plain data, without encoding either:
    the types must match exactly at every level (``==`` alone would take ``1``, ``1.0``
    and ``True`` for one another), dict key order does not matter, and ``0.0`` is not
    ``-0.0`` (JSON writes them differently)."""
    cls = type(a)
    if cls is not type(b):
        return False
    if cls is dict:
        if len(a) != len(b):
            return False
        for name, item in a.items():
            other = b.get(name, _MISSING)
            if other is _MISSING or not same(item, other):
                return False
        return True
    if cls is list:
        return len(a) == len(b) and all(map(same, a, b))
    if cls is float:
        return a == b and (a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b))
    equal: bool = a == b  # str, int, bool, None: a bool
    return equal


def dumps(value: Any) -> str:
    """Checked plain data as compact JSON: the form the wire carries (``Result.state_json``)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def apply_changes(
    before: Mapping[str, Any], assigned: Any, deleted: Any, order: Any = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The state after a call and its ``state_changes``, from the checked state ``before``
    and what a child says it did: ``assigned`` (variable -> new value), ``deleted`` (names
    of variables of ``before``) and, when the order moved, ``order`` (every variable).

    The child is not trusted: ``assigned`` is checked as plain data where it lies (it must
    be owned by the caller, freshly parsed), the names must make sense (a deleted variable
    was there, and is not also assigned; an order names each variable once), and anything
    else raises ``NotPlain``. Whatever the child claims, the result is ``before`` with the
    child's checked changes applied, and the changes reported are exactly those between
    ``before`` and that state: a variable assigned its old value is not reported. The work
    is a copy of ``before``'s top level, in C, plus the size of what changed."""
    check_plain(_dict(assigned, "state"), "state")
    # Names checked to be strings before they are hashed: a child can send lists.
    if (
        type(deleted) is not list
        or not all(type(name) is str and name in before and name not in assigned for name in deleted)
        or len(set(deleted)) != len(deleted)
    ):
        raise NotPlain("state", "the deleted variables are not a list of distinct variables it had")
    after = dict(before)
    for name in deleted:
        del after[name]
    after.update(assigned)
    if order is not None:
        if (
            type(order) is not list
            or len(order) != len(after)
            or not all(type(n) is str for n in order)
            or set(order) != after.keys()
        ):
            raise NotPlain("state", "the order does not name each variable once")
        after = {name: after[name] for name in order}
    changed = {name: value for name, value in assigned.items() if name not in before or not same(before[name], value)}
    return after, {"set": changed, "deleted": sorted(deleted)}


def _dict(value: Any, field: str) -> dict[Any, Any]:
    if type(value) is not dict:
        raise NotPlain(field, f"must be a dict, got {kind(value)}")
    return value


def state_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """``{"set": {key: new value}, "deleted": [key, ...]}`` taking ``before`` to ``after``.

    Both must already be checked plain data. A key counts as set when it is new or its
    value is not the same JSON (``same``); ``deleted`` is sorted. Each variable costs one
    comparison in C (``!=`` is never false for two different JSON values, so it settles
    every change) and, when that finds them equal, one typed walk, which for a ``str``
    (most variables) is a single type check."""
    changed = {}
    for name, value in after.items():
        old = before.get(name, _MISSING)
        if old is _MISSING or old != value or (type(value) is not str and not same(old, value)):
            changed[name] = value
    deleted = sorted(before.keys() - after.keys())
    return {"set": changed, "deleted": deleted}
