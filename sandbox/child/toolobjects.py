"""What the tool defined itself: its classes, its modules' namespaces, and how classes are built.

Runs in the confined child, beside tool code. The attribute guard
(``sandbox/child/attributes.py``) lets a tool reach private names (``self._attempts``)
and data-model methods (``super().__init__``) only on objects the tool defined, and keeps
the runtime's own objects (``conv``, ``log``, module views, the standard library's
classes) opaque. This module is where "the tool defined it" is decided:

* a **tool class** is one built by a ``class`` statement in tool code (every class
  statement goes through ``build_class``, the tool's ``__build_class__``), or by a class
  factory a module view wraps for tools (``collections.namedtuple``,
  ``typing.NamedTuple``, ``dataclasses.make_dataclass``, ``@dataclass(slots=True)``).
  It carries a mark in its own namespace, under a key no identifier can spell, whose
  value is an object only this module holds;
* a **tool function** is a plain function whose globals are a tool module's namespace;
* a **tool instance** is an instance of a tool class.

A private name found in no class's namespace, only in a tool instance's ``__dict__``, is
the tool's unless a base class the tool did not define may keep its own state there
(``instance_state_owner``): a library's ``__init__`` can store a shared object under a
private name in what is now the tool's instance (``AsYouTypeFormatter`` stores the
shared phonenumbers metadata, escape 424). Bases that cannot are the interpreter's own
types, classes that declare ``__slots__`` (the ABCs, ``Generic``, ``Protocol``), classes
with no Python code, and the standard library's classes made for subclassing whose
instance state is the tool's own (``Enum``'s members, ``UserDict``...).

Nothing a tool can write changes these answers for the runtime's objects: runtime classes
are never writable by tools, so no tool can mark one, and the namespace table lives in
this module, which tools cannot import, keyed by identity.

``build_class`` refuses what would let a class hook the runtime, whatever spelling built
it (see ``REFUSED_CLASS_MEMBERS``): a finalizer that would run after the call
(``__del__``), a hook on every attribute read (``__getattribute__``), hooks on the
creation of classes it does not own (``__set_name__``, ``__mro_entries__``,
``__prepare__``, ``__class_getitem__``), class-level ``isinstance`` lies
(``__instancecheck__``), pickling internals (``__reduce__``, ``__reduce_ex__``).
``__init_subclass__`` is allowed: it runs only when the tool itself subclasses its own
class. It builds the class with the real
metaclass only when that metaclass is one tools may use (``type``, ``abc.ABCMeta``,
``enum.EnumType`` and the ``typing`` ones); a base that is itself a metaclass, or a base
that would proxy lookups into other objects (``super``), is refused.
"""

from __future__ import annotations

import abc
import builtins
import collections
import enum
import json
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from sandbox import policy_tables

_REAL_BUILD_CLASS = builtins.__build_class__

# The names a class may not define, with why: the compiler refuses them at compile time
# (the same table); this is the run-time twin for classes built by other spellings (a
# factory's namespace, a setattr on a class).
REFUSED_CLASS_MEMBERS: Mapping[str, str] = types.MappingProxyType(
    {**policy_tables.REFUSED_METHODS, "__weakref__": "weak references run callbacks after the call"}
)

# Bases a tool class may not have: each one hands its instances a way around the
# attribute guard (a super proxy resolves lookups on another object) or is a metaclass.
_REFUSED_BASES: Mapping[type, str] = types.MappingProxyType(
    {
        super: "a super() proxy looks attributes up on another object",
        type: "metaclasses build classes around the class guard",
    }
)


_MARK = "$tool class"  # the key in a tool class's own namespace; no identifier spells it
_TOKEN = object()  # its value, held only by this module


class _Registry:
    """Tool namespaces, by identity. One per child process."""

    __slots__ = ("namespaces",)

    def __init__(self) -> None:
        self.namespaces: dict[int, dict[str, Any]] = {}


_REGISTRY = _Registry()
_FUNCTION_GLOBALS = types.FunctionType.__dict__["__globals__"]
_TYPE_MRO = type.__dict__["__mro__"]
_TYPE_DICT = type.__dict__["__dict__"]


def register_namespace(namespace: dict[str, Any]) -> None:
    """Mark ``namespace`` as a tool module's globals (its functions are tool functions)."""
    _REGISTRY.namespaces[id(namespace)] = namespace


def register_class(cls: type) -> type:
    """Mark ``cls`` as defined by the tool. The caller vetted how it was built."""
    type.__setattr__(cls, _MARK, _TOKEN)
    return cls


def is_tool_class(obj: Any) -> bool:
    """True for a class the tool defined (never for a runtime or standard library class).

    The mark lives in the class's own namespace, put there by the class guard before the
    metaclass runs, so a class is the tool's already while it is being built (an
    ``Enum``'s members are made, and a parent's ``__init_subclass__`` runs, inside its
    metaclass). Its value is an object only this module holds; runtime classes are never
    writable by tools, so no tool can mark one."""
    return isinstance(obj, type) and _TYPE_DICT.__get__(obj).get(_MARK) is _TOKEN


def is_tool_function(obj: Any) -> bool:
    """True for a plain function defined in a tool module."""
    if type(obj) is not types.FunctionType:
        return False
    namespace = _FUNCTION_GLOBALS.__get__(obj)
    return _REGISTRY.namespaces.get(id(namespace)) is namespace


def is_tool_instance(obj: Any) -> bool:
    return _TYPE_DICT.__get__(type(obj)).get(_MARK) is _TOKEN


def is_tool_object(obj: Any) -> bool:
    """A tool class, an instance of one, or a tool function: what the tool defined."""
    return is_tool_instance(obj) or is_tool_class(obj) or is_tool_function(obj)


# Standard library classes made for subclassing whose private instance state is the
# tool's own: an enum member's _value_/_name_ (set by EnumType, documented API), and the
# collections classes and json's error that keep only public state (data, maps, msg).
# The runtime's own such classes register themselves (``keeps_public_state``).
_OWN_STATE_BASES: set[type] = {
    enum.Enum,
    enum.ReprEnum,
    enum.IntEnum,
    enum.StrEnum,
    enum.Flag,
    enum.IntFlag,
    collections.UserDict,
    collections.UserList,
    collections.UserString,
    collections.ChainMap,
    collections.Counter,
    json.JSONDecodeError,
}
_PYTHON_CODE = (types.FunctionType, classmethod, staticmethod, property)


class _StateOwners:
    """Per class: the first base, not the tool's, that may keep state in its instances'
    ``__dict__`` (or None). Classes live as long as the child, so this is never pruned."""

    __slots__ = ("by_class",)

    def __init__(self) -> None:
        self.by_class: dict[type, type | None] = {}


_STATE_OWNERS = _StateOwners()


def keeps_public_state(cls: type) -> type:
    """Mark a runtime class tools may subclass whose code keeps no private state in its
    instances (``requests.RequestException`` keeps ``response`` and ``request``), so that
    a tool subclass's private names stay the tool's. Call before tools run."""
    _OWN_STATE_BASES.add(cls)
    return cls


def _may_keep_state(cls: type) -> bool:
    """A class the tool did not define whose code may store private names in an instance."""
    namespace = _TYPE_DICT.__get__(cls)
    if cls in _OWN_STATE_BASES or "__slots__" in namespace:
        return False
    return any(isinstance(value, _PYTHON_CODE) for value in namespace.values())


def instance_state_owner(cls: type) -> type | None:
    """The first class in ``cls``'s MRO, not defined by the tool, that may keep private
    state of its own in an instance's ``__dict__``; None when every private name there
    is the tool's (see the module docstring)."""
    try:
        return _STATE_OWNERS.by_class[cls]
    except KeyError:
        pass
    owner = None
    for klass in mro_of(cls):
        if not is_tool_class(klass) and _may_keep_state(klass):
            owner = klass
            break
    _STATE_OWNERS.by_class[cls] = owner
    return owner


def is_mangled_for(cls: type, name: str) -> bool:
    """``name`` is a private name mangled for one of the tool's classes in ``cls``'s MRO
    (``self.__token`` in class ``Client`` is ``_Client__token``)."""
    for klass in mro_of(cls):
        if is_tool_class(klass):
            stem = _name_of(klass).lstrip("_")
            if stem and name.startswith(f"_{stem}__"):
                return True
    return False


def class_namespace(cls: type) -> Mapping[str, Any]:
    """A class's own namespace, read through the C-level descriptor."""
    namespace: Mapping[str, Any] = _TYPE_DICT.__get__(cls)
    return namespace


def mro_of(cls: type) -> tuple[type, ...]:
    """``cls.__mro__`` read through the C-level descriptor (no metaclass can answer)."""
    mro: tuple[type, ...] = _TYPE_MRO.__get__(cls)
    return mro


# ---------------------------------------------------------------------------------------
# Building classes
# ---------------------------------------------------------------------------------------


def _allowed_metaclasses() -> frozenset[type]:
    """The metaclasses a tool class may have: the ones ordinary tool code reaches by
    subclassing ``ABC``, ``Enum``, ``NamedTuple``, ``TypedDict`` and ``Protocol``."""
    found: set[type] = {type, abc.ABCMeta, enum.EnumType, type(typing.Protocol)}
    found.add(typing.NamedTupleMeta)  # type: ignore[attr-defined]  # private, absent from typeshed
    found.add(typing._TypedDictMeta)  # type: ignore[attr-defined]  # private, absent from typeshed
    return frozenset(found)


ALLOWED_METACLASSES = _allowed_metaclasses()


def _name_of(cls: type) -> str:
    name: str = type.__dict__["__name__"].__get__(cls)
    return name


def winning_metaclass(explicit: Any, bases: tuple[Any, ...]) -> type:
    """The metaclass Python would use (the most derived of ``explicit`` and the bases'
    metaclasses), refused unless tools may use it. Raises ``TypeError``."""
    winner = explicit if explicit is not None else type
    if not isinstance(winner, type) or winner not in ALLOWED_METACLASSES:
        raise TypeError(f"metaclass {winner!r} is not available to tools")
    for base in bases:
        meta = type(base)
        if issubclass(winner, meta):
            continue
        if issubclass(meta, winner):
            winner = meta
            continue
        raise TypeError("metaclass conflict: the bases' metaclasses are unrelated")
    if winner not in ALLOWED_METACLASSES:
        raise TypeError(f"a base has the metaclass {_name_of(winner)!r}, which is not available to tools")
    return winner


def check_bases(name: str, bases: tuple[Any, ...]) -> None:
    for base in bases:
        if not isinstance(base, type):
            raise TypeError(f"class {name}: base {base!r} is not a class")
        for refused, reason in _REFUSED_BASES.items():
            if issubclass(base, refused):
                raise TypeError(f"class {name}: cannot subclass {_name_of(base)!r} ({reason})")


def check_members(owner: str, names: Any) -> None:
    """Refuse member names that would hook the runtime. ``names`` are the keys of a class
    namespace (any mapping: read with ``dict.keys`` semantics by the caller)."""
    for key in names:
        if type(key) is not str:
            raise TypeError(f"class {owner}: member names must be str")
        reason = REFUSED_CLASS_MEMBERS.get(key)
        if reason is not None:
            raise TypeError(f"class {owner}: defining {key!r} is not allowed ({reason})")


_NATIVE_REFUSED = frozenset({"obj", "fget", "fset", "fdel", "register", "format", "format_map"})


def check_match_args(cls: type) -> None:
    """``__match_args__`` names the attributes a ``match`` class pattern reads natively,
    around the attribute guard, from any object that passes ``isinstance(subject, cls)``.
    It may never name a door or a name the guard refuses only on some objects; and where
    ``isinstance`` is structural (a ``Protocol``: any object with the right attributes
    passes), not a private name either.

    A private name is read from instances of ``cls`` and of its subclasses, so every
    ``__match_args__`` along the MRO is checked again against ``cls`` itself (a subclass
    that adds a library base): the name must be the tool's on ``cls`` as the guard decides
    it (defined by a tool class, or kept in the instance with no base that may keep state
    of its own there)."""
    value = _TYPE_DICT.__get__(cls).get("__match_args__")
    if type(value) is tuple:
        structural = isinstance(cls, type(typing.Protocol))
        for item in value:
            if (
                type(item) is not str
                or item.startswith("__")
                or item in policy_tables.FORBIDDEN_ATTRIBUTES
                or item in _NATIVE_REFUSED
                or (structural and item.startswith("_"))
            ):
                raise TypeError(
                    f"class {_name_of(cls)}: __match_args__ may name only attributes the tool "
                    f"could read itself, not {item!r}"
                )
    for klass in mro_of(cls):
        inherited = _TYPE_DICT.__get__(klass).get("__match_args__")
        if type(inherited) is not tuple or not is_tool_class(klass):
            continue
        for item in inherited:
            if type(item) is str and item[:1] == "_" and not _private_is_tools(cls, item):
                raise TypeError(
                    f"class {_name_of(cls)}: __match_args__ of {_name_of(klass)} names {item!r}, which "
                    "is not the tool's on this class (a base the tool did not define uses it)"
                )


def _private_is_tools(cls: type, name: str) -> bool:
    """The guard's answer for a private ``name`` read on an instance of ``cls``."""
    for klass in mro_of(cls):
        if name in _TYPE_DICT.__get__(klass):
            return is_tool_class(klass)
    return instance_state_owner(cls) is None or is_mangled_for(cls, name)


class _ClassGuard:
    """The metaclass object every tool class statement is built with.

    ``build_class`` passes an instance holding the explicit ``metaclass=`` keyword (or
    None). Python calls ``__prepare__`` and then the instance itself, exactly as it would
    call a real metaclass; both find the real winning metaclass first, so an ``Enum``
    body still gets the namespace ``EnumType`` prepares.
    """

    __slots__ = ("explicit",)

    def __init__(self, explicit: Any):
        self.explicit = explicit

    def __prepare__(self, name: str, bases: tuple[Any, ...], **keywords: Any) -> Any:
        check_bases(name, bases)
        meta = winning_metaclass(self.explicit, bases)
        return meta.__prepare__(name, bases, **keywords)

    def __call__(self, name: str, bases: tuple[Any, ...], namespace: Any, **keywords: Any) -> type:
        check_bases(name, bases)
        meta = winning_metaclass(self.explicit, bases)
        keys = list(dict.keys(namespace)) if isinstance(namespace, dict) else list(namespace)
        check_members(name, keys)
        dict.__setitem__(namespace, _MARK, _TOKEN)  # around an Enum body's own __setitem__
        cls: type = meta(name, bases, namespace, **keywords)
        check_match_args(cls)  # the body's, or the one a metaclass wrote (NamedTuple)
        return cls


class MetaclassHandle:
    """What a module view exposes in place of a metaclass (``abc.ABCMeta``): usable as
    ``class X(metaclass=ABCMeta)`` and with ``isinstance``, never called directly, so no
    class is built around the class guard."""

    __slots__ = ("_meta",)

    def __init__(self, meta: type):
        self._meta: type  # for the checker; in the class body it would add an __annotations__
        object.__setattr__(self, "_meta", meta)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"{_name_of(self._meta)}(...) cannot build classes in tools; write a class statement")

    def __instancecheck__(self, obj: Any) -> bool:
        return isinstance(obj, self._meta)

    def __subclasscheck__(self, cls: Any) -> bool:
        return issubclass(cls, self._meta)

    def __repr__(self) -> str:
        return f"<class '{self._meta.__module__}.{_name_of(self._meta)}'>"

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("read-only")


def _unwrap_metaclass(value: Any) -> Any:
    if type(value) is MetaclassHandle:
        return object.__getattribute__(value, "_meta")
    if value is TOOL_TYPE:
        return type  # class X(metaclass=type): the default, spelled out
    return value


def tool_value(value: Any) -> Any:
    """``value`` as tools may hold it: a metaclass becomes the tools' ``type`` (for
    ``type`` itself) or a ``MetaclassHandle``; a tuple is mapped item by item. For
    functions that hand out classes (``typing.get_origin``, ``get_args``)."""
    if value is type:
        return TOOL_TYPE
    if isinstance(value, type) and issubclass(value, type):
        return MetaclassHandle(value)
    if type(value) is tuple:
        return tuple(tool_value(item) for item in value)
    return value


_NO_METACLASS = object()


def build_class(
    func: Callable[..., Any], name: str, *bases: Any, metaclass: Any = _NO_METACLASS, **keywords: Any
) -> type:
    """The tool's ``__build_class__``: every ``class`` statement in tool code runs here.

    The body runs as usual (the real ``__build_class__``); the class itself is made by a
    ``_ClassGuard``, which vets bases, metaclass and members and registers the result.
    """
    explicit = None if metaclass is _NO_METACLASS else _unwrap_metaclass(metaclass)
    cls: type = _REAL_BUILD_CLASS(func, name, *bases, metaclass=_ClassGuard(explicit), **keywords)
    return cls


def factory_class(cls: type, origin: str) -> type:
    """Register a class a wrapped standard library factory built for the tool
    (``namedtuple``, ``make_dataclass``...). The factory's own members are the standard
    library's; what the tool passed in (field names, a namespace) the wrapper checked."""
    if not isinstance(cls, type) or type(cls) not in ALLOWED_METACLASSES:
        raise TypeError(f"{origin} built something that is not a plain class")
    check_match_args(cls)
    return register_class(cls)


class ToolType:
    """The tool's ``type``: ``type(x)`` is x's class; there is no three-argument form.

    A class's class is a metaclass, which would build classes around the class guard, so
    ``type(SomeClass)`` answers this object itself (``type(int) is type`` stays true for
    tool code), and ``isinstance(x, type)``/``issubclass(c, type)`` work as usual.
    """

    __slots__ = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if len(args) != 1 or kwargs:
            raise TypeError(
                "type() takes one argument in tools: type(x) is x's class; write a class statement to make a class"
            )
        cls = type(args[0])
        if issubclass(cls, type):
            return self
        return cls

    def __instancecheck__(self, obj: Any) -> bool:
        return isinstance(obj, type)

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[type, ...]:
        raise TypeError("cannot subclass 'type' in tools: metaclasses build classes around the class guard")

    def __subclasscheck__(self, cls: Any) -> bool:
        return isinstance(cls, type) and issubclass(cls, type)

    def __repr__(self) -> str:
        return "<class 'type'>"

    @property
    def __name__(self) -> str:
        return "type"


TOOL_TYPE = ToolType()
