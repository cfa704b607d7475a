"""Read-only module views: what ``import json`` gives a tool instead of the real module.

Runs in the confined child, beside tool code that holds the views. Trusts the policy spec
(sent by the supervisor) to say which names each module exports, and the standard library
modules themselves. Trusts nothing about the code that reads a view.

Why views: a real module is a door back into the interpreter. In Python 3.11,
``datetime.sys`` is the ``sys`` module and ``json.codecs.builtins`` the real builtins,
with no underscore on the way, so no attribute-name rule can close them. A view instead
*holds only the allowed members* (picked by name when the view is built), never the module
itself, so such names are not there to find. A ``ModuleView``:

* answers only its allowed names (plus ``__name__`` and ``__class__`` for the interpreter's
  own use); anything else is ``AttributeError: module 'json' has no attribute 'codecs'
  available to tools``, followed by why and what to use instead for the members the policy
  leaves out on purpose (``LEFT_OUT`` in ``sandbox/policy_modules.py``);
* has no ``__dict__`` (``__slots__``), refuses attribute assignment and deletion, cannot be
  subclassed, and is made only by ``build_view``/``package_view`` (a private token guards
  the constructor);
* never holds a real module: a member that turns out to be a module (say a policy listing
  ``datetime.sys``) is dropped when the view is built.

What the allowed members themselves expose (their non-underscore attributes, instances of
exported classes) was reviewed per module; see ``sandbox/policy_tables.py`` and the
reachability test in ``tests/test_views.py``, which walks every exported member and
refuses any path to a module, frame, code object or dangerous builtin.

``polyai.voice`` is not a real module: its members come from
``sandbox.child.voice.VOICE_MODULE_NAMES``, imported lazily so that this module works
before (and without) the voice module. Nor are ``requests`` and ``requests.exceptions``:
their members come from ``sandbox.child.http`` (outbound HTTP through the supervisor,
issue 8); the real ``requests`` is never imported for a tool.

The real modules must be imported before the child is confined, because a confined child
has no filesystem to import from: ``preload`` does that, and ``sandbox.child.guards``
calls it for the default policy when it is first imported (the template imports the
runtime before it forks and confines children).
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

_TOKEN = object()  # only this module builds views


def _voice_members() -> Mapping[str, Any]:
    try:
        from sandbox.child.voice import VOICE_MODULE_NAMES
    except ImportError:
        raise ImportError("polyai.voice is not available in this runtime") from None
    return VOICE_MODULE_NAMES


def _requests_members() -> Mapping[str, Any]:
    try:
        from sandbox.child.http import REQUESTS_MODULE_NAMES
    except ImportError:
        raise ImportError("requests is not available in this runtime") from None
    return REQUESTS_MODULE_NAMES


def _requests_exceptions_members() -> Mapping[str, Any]:
    try:
        from sandbox.child.http import EXCEPTIONS_MODULE_NAMES
    except ImportError:
        raise ImportError("requests is not available in this runtime") from None
    return EXCEPTIONS_MODULE_NAMES


VIRTUAL_MODULES: Mapping[str, Callable[[], Mapping[str, Any]]] = MappingProxyType(
    {
        "polyai.voice": _voice_members,
        # issue 8: toolpool's own requests-compatible module, served by the supervisor
        "requests": _requests_members,
        "requests.exceptions": _requests_exceptions_members,
    }
)
"""Modules that exist only for tools: name -> loader of their members (name -> object)."""


class ModuleView:
    """A frozen, read-only stand-in for a module, holding only the allowed members."""

    __slots__ = ("_view_left_out", "_view_members", "_view_name")

    def __init__(self, token: object, name: str, members: Mapping[str, Any], left_out: Mapping[str, str] | None = None):
        if token is not _TOKEN:
            raise TypeError("module views are made by the import guard")
        object.__setattr__(self, "_view_name", name)
        object.__setattr__(self, "_view_members", MappingProxyType(dict(members)))
        object.__setattr__(self, "_view_left_out", MappingProxyType(dict(left_out or {})))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        raise TypeError("module views cannot be subclassed")

    def __getattribute__(self, attr: str) -> Any:
        # Every lookup lands here, so no method or slot of this class is reachable as
        # an attribute of the instance: only the members are.
        members = object.__getattribute__(self, "_view_members")
        if type(attr) is str and attr in members:
            return members[attr]
        if attr == "__name__":
            return object.__getattribute__(self, "_view_name")
        if attr == "__class__":
            return ModuleView
        name = object.__getattribute__(self, "_view_name")
        reason = object.__getattribute__(self, "_view_left_out").get(attr) if type(attr) is str else None
        raise AttributeError(
            f"module {name!r} has no attribute {str(attr)!r} available to tools" + (f": {reason}" if reason else "")
        )

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError(f"module {self.__name__!r} is read-only")

    def __delattr__(self, attr: str) -> None:
        raise AttributeError(f"module {self.__name__!r} is read-only")

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("module views cannot be copied or pickled")

    # copy.copy and copy.deepcopy look these up on the class, past __getattribute__: a
    # module cannot be copied, in CPython (TypeError) as here.
    def __copy__(self) -> Any:
        raise TypeError(f"cannot copy module {self.__name__!r}")

    def __deepcopy__(self, memo: Any) -> Any:
        raise TypeError(f"cannot copy module {self.__name__!r}")

    def __repr__(self) -> str:
        return f"<module {self.__name__!r} (tool view)>"

    def __dir__(self) -> list[str]:
        return sorted(object.__getattribute__(self, "_view_members"))


def view_names(view: ModuleView) -> tuple[str, ...]:
    """The names a view exposes, sorted (for the runtime and tests; tools cannot call this)."""
    return tuple(sorted(object.__getattribute__(view, "_view_members")))


def _module_members(name: str) -> Any:
    """The real module, or a virtual module's member table."""
    loader = VIRTUAL_MODULES.get(name)
    if loader is not None:
        return loader()
    module = sys.modules.get(name)
    if module is None:
        module = importlib.import_module(name)
    return module


def build_view(
    name: str,
    names: Iterable[str],
    children: Mapping[str, ModuleView] | None = None,
    standins: Mapping[str, Any] | None = None,
    left_out: Mapping[str, str] | None = None,
) -> ModuleView:
    """A view of module ``name`` exposing ``names``, plus the given views of its submodules.

    The caller (the import guard) is responsible for ``name`` being allowed by the policy.
    A name found in ``standins`` (``sandbox/child/modules``) is served by that object
    instead of the module's own member. Names the module lacks (another Python version)
    are left out, so importing them fails as ``cannot import name``. Underscore names and
    members that are modules are never exposed, whatever ``names`` says: a submodule
    appears only as a view in ``children``. Raises ``ImportError`` if the module cannot
    be loaded. ``left_out`` maps members the policy leaves out on purpose to the reason a
    tool reading one is given.
    """
    standins = standins or {}
    source: Any = None
    members: dict[str, Any] = {}
    for member in names:
        if type(member) is not str or member.startswith("_"):
            continue
        if member in standins:
            members[member] = standins[member]
            continue
        if source is None:
            source = _module_members(name)
        if isinstance(source, types.ModuleType):
            try:
                value = getattr(source, member)
            except AttributeError:
                continue
        else:
            if member not in source:
                continue
            value = source[member]
        if isinstance(value, (types.ModuleType, ModuleView)):
            continue
        members[member] = value
    for child_name, child in (children or {}).items():
        if type(child) is not ModuleView:
            raise TypeError("a submodule is exposed only as a module view")
        members[child_name] = child
    return ModuleView(_TOKEN, name, members, {k: v for k, v in (left_out or {}).items() if k not in members})


def package_view(name: str, children: Mapping[str, ModuleView]) -> ModuleView:
    """A view of package ``name`` whose only members are the given child views.

    ``import urllib.parse`` binds ``urllib``; its view holds ``parse`` and nothing else.
    """
    for child in children.values():
        if type(child) is not ModuleView:
            raise TypeError("a package view holds only module views")
    return ModuleView(_TOKEN, name, children)


def preload(module_names: Iterable[str], skip: Iterable[str] = ()) -> tuple[str, ...]:
    """Import the real modules behind ``module_names`` now, while there is a filesystem.

    Virtual modules are skipped except that their loader is tried once; ``skip`` names
    modules served entirely by stand-ins, never imported for tools. Returns the names
    that could not be imported (a tool importing one later gets ``ImportError``).
    """
    skipped = frozenset(skip)
    failed = []
    for name in module_names:
        if name in skipped:
            continue
        try:
            _module_members(name)
        except ImportError:
            failed.append(name)
    return tuple(failed)
