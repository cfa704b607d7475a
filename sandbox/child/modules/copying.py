"""``copy.copy`` and ``copy.deepcopy`` for tools, and the child's deep copies without a leaky memo.

Runs in the template (``guard_deepcopy_memo``, before confinement) and in the confined
child. Two doors are closed here:

* **the runtime's objects are never copied** (``conv``, ``log``, module views, loggers,
  every class of ``sandbox.*``): ``__reduce_ex__`` would rebuild them behind their
  constructors, with their private state in the copy. ``refuse_copies_of`` registers a
  refusal in the ``copy`` module's own dispatch tables, so the refusal holds however the
  copy is reached (``copy.deepcopy``, ``dataclasses.asdict``, a container holding one);
* **the memo holds no originals.** The standard library keeps every object it copied in
  ``memo[id(memo)]`` (``copy._keep_alive``), including the real ``__dict__`` of each
  object it reduced, and hands that same memo to every ``__deepcopy__`` hook on the way.
  A tool's hook could then rewrite a runtime object's state (escape cases 406-408). In
  this process every top-level ``deepcopy`` keeps its originals in a list of its own
  instead, alive until the copy returns and out of any memo's reach. So a hook gets a
  memo holding only copies, and may pass it back (``copy.deepcopy(v, memo)``, the usual
  idiom); a memo the tool made itself is refused.
"""

from __future__ import annotations

import copy as _copy
import sys
from typing import Any

_REAL_DEEPCOPY = _copy.deepcopy
_REAL_KEEP_ALIVE = _copy._keep_alive  # type: ignore[attr-defined]  # private, absent from typeshed


class _RuntimeObjects:
    """Classes whose instances belong to the runtime: copying them is refused."""

    __slots__ = ("classes",)

    def __init__(self) -> None:
        self.classes: set[type] = set()


RUNTIME_CLASSES = _RuntimeObjects()
_COPYABLE: set[type] = set()


def copyable(cls: type) -> type:
    """Mark a runtime class as a plain value type that tools may copy (a frozen table),
    exempt from ``refuse_copies_of_runtime_classes``."""
    _COPYABLE.add(cls)
    return cls


def refuse_copies_of(*classes: type) -> None:
    """Make ``copy``/``deepcopy`` refuse instances of these runtime classes (exact types;
    the copy module dispatches on the exact type first)."""
    for cls in classes:
        RUNTIME_CLASSES.classes.add(cls)
        _copy._copy_dispatch[cls] = _refuse_copy  # type: ignore[attr-defined]  # private, absent from typeshed
        _copy._deepcopy_dispatch[cls] = _refuse_deepcopy  # type: ignore[attr-defined]  # private, absent from typeshed


def _refusal(obj: Any) -> TypeError:
    name = type.__dict__["__name__"].__get__(type(obj))
    return TypeError(
        f"{name} objects belong to the runtime and cannot be copied; copy the values you need "
        "(dict(conv.state) copies the state's variables)"
    )


def _refuse_copy(obj: Any) -> Any:
    raise _refusal(obj)


def _refuse_deepcopy(obj: Any, memo: Any) -> Any:
    raise _refusal(obj)


def refuse_copies_of_runtime_classes() -> None:
    """Register a refusal for every class the runtime's own modules define (``sandbox.*``),
    so that ``copy``/``deepcopy`` and the helpers built on them (``dataclasses.asdict``)
    never rebuild one of the runtime's objects through ``__reduce_ex__`` (behind its
    constructor, with its private state in the copy's memo). Call once all of the runtime
    is imported; classes the runtime makes later register themselves."""
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "sandbox" or name.startswith("sandbox.")):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, type) and value.__module__ == name and value not in _COPYABLE:
                refuse_copies_of(value)


# ---------------------------------------------------------------------------------------
# deep copies whose memo holds copies only
# ---------------------------------------------------------------------------------------


class _Sessions:
    """The deep copies under way in this process: id(memo) -> (memo, the originals kept alive)."""

    __slots__ = ("kept",)

    def __init__(self) -> None:
        self.kept: dict[int, tuple[dict[int, Any], list[Any]]] = {}

    def of(self, memo: Any) -> list[Any] | None:
        entry = self.kept.get(id(memo))
        return entry[1] if entry is not None and entry[0] is memo else None


_SESSIONS = _Sessions()


def _deepcopy(x: Any, memo: Any = None, _nil: Any = None) -> Any:
    """``copy.deepcopy`` for the whole child process. A top-level copy (no memo) opens a
    session whose originals are kept beside the memo rather than in it; the copy module's
    own recursion passes the memo on, so it continues the session."""
    if memo is not None:
        return _REAL_DEEPCOPY(x, memo)
    memo = {}
    key = id(memo)
    _SESSIONS.kept[key] = (memo, [])
    try:
        return _REAL_DEEPCOPY(x, memo)
    finally:
        del _SESSIONS.kept[key]  # the originals may go now that the copy is made


def _keep_alive(x: Any, memo: Any) -> None:
    """``copy._keep_alive``: an original must outlive the copy (the memo is keyed by ids),
    but not inside the memo, which ``__deepcopy__`` hooks receive."""
    kept = _SESSIONS.of(memo)
    if kept is None:
        _REAL_KEEP_ALIVE(x, memo)  # a memo from outside a session: as the standard library does
        return
    kept.append(x)


def guard_deepcopy_memo() -> None:
    """Route this process's deep copies through sessions (see the module docstring). The
    child runtime's own patch of the ``copy`` module, made once before tools run."""
    if _copy.deepcopy is _deepcopy:
        return
    _copy.deepcopy = _deepcopy
    _copy._keep_alive = _keep_alive  # type: ignore[attr-defined]  # private, absent from typeshed


# ---------------------------------------------------------------------------------------
# what tools call
# ---------------------------------------------------------------------------------------


def copy(x: Any) -> Any:
    if type(x) in RUNTIME_CLASSES.classes:
        raise _refusal(x)
    return _copy.copy(x)


def deepcopy(x: Any, memo: Any = None) -> Any:
    """``copy.deepcopy``. ``memo`` may only be the one a ``__deepcopy__`` hook was given,
    for the copy under way (``copy.deepcopy(self.items, memo)``)."""
    if type(x) in RUNTIME_CLASSES.classes:
        raise _refusal(x)
    if memo is not None and _SESSIONS.of(memo) is None:
        raise TypeError(
            "deepcopy(x, memo): memo must be the one your __deepcopy__(self, memo) was given; "
            "otherwise call deepcopy(x)"
        )
    return _copy.deepcopy(x, memo)
