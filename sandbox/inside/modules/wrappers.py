"""Guarded stand-ins for standard library functions that would step around the guards.

Runs in the confined child. Each function here replaces one member of a module view
(``sandbox/inside/views.py`` asks ``sandbox/inside/modules/__init__.py`` for them) because
the real one evaluates a string, resolves a dotted path, writes attributes of any object,
copies a function's internals, or builds a class the class guard never saw:

=========================================  ==============================================
``operator.attrgetter("a.b")``             each step through the attribute guard
``operator.methodcaller(name, ...)``       the method read through the attribute guard
``functools.wraps``/``update_wrapper``     only the default ``assigned``/``updated``
                                           (custom ones copy ``__code__`` and friends),
                                           onto a tool function or object only
``functools.total_ordering``               a tool class only (it sets its methods)
``copy.copy``/``deepcopy``                 never a runtime object (``conv``, ``log``,
                                           views): __reduce_ex__ would rebuild them behind
                                           their constructors
``collections.namedtuple``,                the class built is the tool's (registered, so
``typing.NamedTuple``                      ``_asdict``/``_replace`` work), members checked
``dataclasses.dataclass``                  a ``slots=True`` class is rebuilt by dataclasses:
                                           the new class is registered in its place
``dataclasses.make_dataclass``             identifier field names, no hook members,
                                           registered like a class statement
``abc.ABCMeta``                            a handle for ``metaclass=ABCMeta``; never called
=========================================  ==============================================
"""

from __future__ import annotations

import abc
import collections
import copy as _copy
import dataclasses
import functools
import keyword
import typing
from typing import Any, Callable

from sandbox.inside import toolobjects as tools
from sandbox.inside.attributes import AttributeGuard, exact_name

# ---------------------------------------------------------------------------------------
# operator
# ---------------------------------------------------------------------------------------


def _dotted(path: Any) -> tuple[str, ...]:
    path = exact_name(path)
    return tuple(path.split("."))


def make_attrgetter(guard: AttributeGuard) -> type:
    class attrgetter:  # noqa: N801 - operator's name
        """``operator.attrgetter``: every step of every dotted path through the guard."""

        __slots__ = ("_paths",)

        def __init__(self, attr: Any, *attrs: Any):
            self._paths = tuple(_dotted(path) for path in (attr, *attrs))

        def __call__(self, obj: Any) -> Any:
            values = []
            for path in self._paths:
                value = obj
                for step in path:
                    value = guard.get(value, step)
                values.append(value)
            return values[0] if len(values) == 1 else tuple(values)

        def __repr__(self) -> str:
            shown = ", ".join(repr(".".join(path)) for path in self._paths)
            return f"operator.attrgetter({shown})"

    return attrgetter


def make_methodcaller(guard: AttributeGuard) -> type:
    class methodcaller:  # noqa: N801 - operator's name
        """``operator.methodcaller``: the method is read through the guard."""

        __slots__ = ("_name", "_args", "_kwargs")

        def __init__(self, name: Any, /, *args: Any, **kwargs: Any):
            self._name = exact_name(name)
            self._args = args
            self._kwargs = kwargs

        def __call__(self, obj: Any) -> Any:
            return guard.get(obj, self._name)(*self._args, **self._kwargs)

        def __repr__(self) -> str:
            return f"operator.methodcaller({self._name!r}, ...)"

    return methodcaller


# ---------------------------------------------------------------------------------------
# functools
# ---------------------------------------------------------------------------------------


def _check_wrapper(wrapper: Any) -> None:
    if not tools.is_tool_object(wrapper):
        raise TypeError("functools.wraps/update_wrapper may only change the tool's own functions and objects")


def update_wrapper(wrapper: Any, wrapped: Any, assigned: Any = functools.WRAPPER_ASSIGNMENTS,
                   updated: Any = functools.WRAPPER_UPDATES) -> Any:
    if tuple(assigned) != functools.WRAPPER_ASSIGNMENTS or tuple(updated) != functools.WRAPPER_UPDATES:
        raise TypeError("functools.update_wrapper/wraps take only the default assigned= and updated= in tools "
                        "(copying other attributes would copy function internals)")
    _check_wrapper(wrapper)
    return functools.update_wrapper(wrapper, wrapped)


def wraps(wrapped: Any, assigned: Any = functools.WRAPPER_ASSIGNMENTS,
          updated: Any = functools.WRAPPER_UPDATES) -> Callable[[Any], Any]:
    if tuple(assigned) != functools.WRAPPER_ASSIGNMENTS or tuple(updated) != functools.WRAPPER_UPDATES:
        raise TypeError("functools.wraps takes only the default assigned= and updated= in tools "
                        "(copying other attributes would copy function internals)")

    def decorate(wrapper: Any) -> Any:
        return update_wrapper(wrapper, wrapped)

    return decorate


def total_ordering(cls: Any) -> Any:
    if not tools.is_tool_class(cls):
        raise TypeError("functools.total_ordering applies only to the tool's own classes")
    return functools.total_ordering(cls)


# ---------------------------------------------------------------------------------------
# copy
# ---------------------------------------------------------------------------------------


class _RuntimeObjects:
    """Classes whose instances belong to the runtime: copying them is refused."""

    __slots__ = ("classes",)

    def __init__(self) -> None:
        self.classes: set[type] = set()


RUNTIME_CLASSES = _RuntimeObjects()


def refuse_copies_of(*classes: type) -> None:
    """Make ``copy``/``deepcopy`` refuse instances of these runtime classes (exact types;
    the copy module dispatches on the exact type first)."""
    for cls in classes:
        RUNTIME_CLASSES.classes.add(cls)
        _copy._copy_dispatch[cls] = _refuse_copy  # type: ignore[attr-defined]
        _copy._deepcopy_dispatch[cls] = _refuse_deepcopy  # type: ignore[attr-defined]


def _refusal(obj: Any) -> TypeError:
    name = type.__dict__["__name__"].__get__(type(obj))
    return TypeError(f"{name} objects belong to the runtime and cannot be copied; copy the values you need "
                     "(dict(conv.state) copies the state's variables)")


def _refuse_copy(obj: Any) -> Any:
    raise _refusal(obj)


def _refuse_deepcopy(obj: Any, memo: Any) -> Any:
    raise _refusal(obj)


def copy(x: Any) -> Any:
    if type(x) in RUNTIME_CLASSES.classes:
        raise _refusal(x)
    return _copy.copy(x)


def deepcopy(x: Any, memo: Any = None) -> Any:
    if memo is not None and type(memo) is not dict:
        raise TypeError("deepcopy(memo=...) must be a dict")
    return _copy.deepcopy(x, memo)


# ---------------------------------------------------------------------------------------
# Class factories
# ---------------------------------------------------------------------------------------


def namedtuple(typename: Any, field_names: Any, *, rename: bool = False, defaults: Any = None,
               module: Any = None) -> type:
    if module is not None:
        raise TypeError("namedtuple(module=...) is not available to tools")
    cls = collections.namedtuple(typename, field_names, rename=rename, defaults=defaults)
    return tools.factory_class(cls, "namedtuple")


_REAL_NAMED_TUPLE = typing.NamedTuple


def NamedTuple(typename: Any, fields: Any = None, /, **kwargs: Any) -> type:  # noqa: N802 - typing's name
    cls = _REAL_NAMED_TUPLE(typename, fields, **kwargs) if fields is not None else _REAL_NAMED_TUPLE(typename, **kwargs)
    return tools.factory_class(cls, "NamedTuple")


def _named_tuple_bases(bases: tuple[Any, ...]) -> tuple[type, ...]:
    # `class P(NamedTuple)`: the same base typing's own NamedTuple gives (its hook asserts
    # that typing.NamedTuple itself is among the bases, so it cannot be reused here)
    return (typing._NamedTuple,)  # type: ignore[attr-defined]


NamedTuple.__mro_entries__ = _named_tuple_bases  # type: ignore[attr-defined]


def dataclass(cls: Any = None, /, **options: Any) -> Any:
    """``dataclasses.dataclass``; a class it rebuilds (``slots=True``) stays the tool's."""

    def wrap(target: Any) -> Any:
        result = dataclasses.dataclass(**options)(target)
        if result is not target and tools.is_tool_class(target):
            tools.factory_class(result, "dataclass")
        return result

    if cls is None:
        return wrap
    return wrap(cls)


def make_dataclass(cls_name: Any, fields: Any, *, bases: Any = (), namespace: Any = None, **options: Any) -> type:
    names = []
    for item in fields:
        name = item if isinstance(item, str) else item[0]
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name) or name.startswith("__"):
            raise TypeError(f"make_dataclass: field names must be identifiers not starting with '__', got {name!r}")
        names.append(name)
    if namespace is not None:
        tools.check_members(str(cls_name), list(namespace))
    tools.check_bases(str(cls_name), tuple(bases))
    if "module" in options:
        raise TypeError("make_dataclass(module=...) is not available to tools")
    cls = dataclasses.make_dataclass(cls_name, fields, bases=tuple(bases), namespace=namespace, **options)
    return tools.factory_class(cls, "make_dataclass")


ABC_META = tools.MetaclassHandle(abc.ABCMeta)
