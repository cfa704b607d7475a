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
import enum
import functools
import keyword
import re
import sys
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

    refuse_copies_of(attrgetter)
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

    refuse_copies_of(methodcaller)
    return methodcaller


# ---------------------------------------------------------------------------------------
# functools
# ---------------------------------------------------------------------------------------


def _check_wrapper(wrapper: Any) -> None:
    if not tools.is_tool_object(wrapper):
        raise TypeError("functools.wraps/update_wrapper may only change the tool's own functions and objects")


def _check_assigned(assigned: Any, updated: Any) -> None:
    if tuple(assigned) != functools.WRAPPER_ASSIGNMENTS or tuple(updated) != functools.WRAPPER_UPDATES:
        raise TypeError("functools.wraps/update_wrapper take only the default assigned= and updated= in tools "
                        "(copying other attributes would copy function internals)")


def update_wrapper(wrapper: Any, wrapped: Any, assigned: Any = functools.WRAPPER_ASSIGNMENTS,
                   updated: Any = functools.WRAPPER_UPDATES) -> Any:
    """``functools.update_wrapper`` onto the tool's own function or object. From the tool's
    own ``wrapped`` everything is copied, as the standard library does; from anything
    else (a standard library function) only its labels and a copy of its annotations,
    never its ``__dict__`` (a class's namespace would come with it)."""
    _check_assigned(assigned, updated)
    _check_wrapper(wrapper)
    if isinstance(wrapped, type):
        raise TypeError("functools.wraps/update_wrapper cannot wrap a class in tools; wrap a function")
    if tools.is_tool_object(wrapped):
        return functools.update_wrapper(wrapper, wrapped)
    for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
        value = getattr(wrapped, attr, None)
        if value is None or isinstance(value, str):
            setattr(wrapper, attr, value)
    annotations = getattr(wrapped, "__annotations__", None)
    if type(annotations) is dict:
        wrapper.__annotations__ = dict(annotations)
    wrapper.__wrapped__ = wrapped
    return wrapper


def wraps(wrapped: Any, assigned: Any = functools.WRAPPER_ASSIGNMENTS,
          updated: Any = functools.WRAPPER_UPDATES) -> Callable[[Any], Any]:
    _check_assigned(assigned, updated)

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
    """``copy.deepcopy``, without a memo from the tool: the memo holds every copy made on
    the way, which a tool must not get to see (a ``__deepcopy__`` hook of the tool's own
    gets the memo of its own copy, with the tool's data in it)."""
    if memo is not None:
        raise TypeError("deepcopy(memo=...) is not available to tools; call deepcopy(x)")
    return _copy.deepcopy(x)


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
            if isinstance(value, type) and value.__module__ == name:
                refuse_copies_of(value)


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


def _check_field_names(cls: type) -> None:
    """dataclasses writes each field name into source code it exec()s: only identifiers."""
    annotations = tools.class_namespace(cls).get("__annotations__", {})
    for name in annotations:
        if type(name) is not str or not name.isidentifier() or keyword.iskeyword(name) or name.startswith("__"):
            raise TypeError(f"dataclass {cls.__name__}: field names must be identifiers not starting with '__', "
                            f"got annotation {name!r}")


def dataclass(cls: Any = None, /, **options: Any) -> Any:
    """``dataclasses.dataclass`` for the tool's own classes; a class it rebuilds
    (``slots=True``) stays the tool's, and the ``__match_args__`` it writes is checked."""

    def wrap(target: Any) -> Any:
        if not tools.is_tool_class(target):
            raise TypeError("dataclasses.dataclass applies only to the tool's own classes")
        _check_field_names(target)
        result = dataclasses.dataclass(**options)(target)
        if result is not target:
            tools.factory_class(result, "dataclass")
        else:
            tools.check_match_args(result)
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


# ---------------------------------------------------------------------------------------
# functools.singledispatch: register() without typing.get_type_hints
# ---------------------------------------------------------------------------------------

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def _annotation_class(func: Any, guard: AttributeGuard) -> Any:
    """The class a ``@f.register`` implementation's first parameter is annotated with.

    The standard library reads it with ``typing.get_type_hints``, which evaluates a string
    annotation (every annotation, under ``from __future__ import annotations``) as code,
    outside the sandbox's compiler. Here a string annotation must be a dotted name, or
    names joined by ``|``; each is looked up in the function's module and its builtins,
    and each further step through the attribute guard. Nothing is evaluated."""
    annotations = getattr(func, "__annotations__", None) or {}
    params = [name for name in annotations if name != "return"]
    if not params:
        raise TypeError(f"Invalid first argument to `register()`: {func!r}. Use either `@register(some_class)` "
                        "or plain `@register` on an annotated function.")
    annotation = annotations[params[0]]
    if not isinstance(annotation, str):
        return annotation
    namespace = getattr(func, "__globals__", {})
    classes = []
    for part in annotation.split("|"):
        part = part.strip()
        if not _DOTTED.fullmatch(part):
            raise TypeError(f"register(): the annotation {annotation!r} is not a class name; "
                            "annotate with a class, or pass it: @f.register(SomeClass)")
        first, *rest = part.split(".")
        if first in namespace:
            value = namespace[first]
        elif first in namespace.get("__builtins__", {}):
            value = namespace["__builtins__"][first]
        else:
            raise NameError(f"name {first!r} is not defined")
        for step in rest:
            value = guard.get(value, step)
        classes.append(value)
    result = classes[0]
    for cls in classes[1:]:
        result = result | cls
    return result


def make_singledispatch(guard: AttributeGuard) -> tuple[Callable[[Any], Any], type]:
    """``singledispatch`` and ``singledispatchmethod`` whose ``register`` reads annotations
    without evaluating them (see ``_annotation_class``)."""

    def singledispatch(func: Any) -> Any:
        dispatcher = functools.singledispatch(func)
        real_register = dispatcher.register

        def register(cls: Any, func: Any = None) -> Any:
            if func is None and not isinstance(cls, type) and not isinstance(cls, typing._GenericAlias | type(int | str)):  # type: ignore[attr-defined]
                implementation = cls
                return real_register(_annotation_class(implementation, guard), implementation)
            return real_register(cls, func)

        dispatcher.register = register
        return dispatcher

    class singledispatchmethod(functools.singledispatchmethod):  # noqa: N801 - functools' name
        def __init__(self, func: Any):
            super().__init__(func)
            self.dispatcher = singledispatch(func)

    refuse_copies_of(singledispatchmethod)
    return singledispatch, singledispatchmethod


# ---------------------------------------------------------------------------------------
# typing and abc helpers that hand out classes or write attributes
# ---------------------------------------------------------------------------------------


def get_origin(tp: Any) -> Any:
    """``typing.get_origin``; ``type`` and other metaclasses come back as the tools' own."""
    return tools.tool_value(typing.get_origin(tp))


def get_args(tp: Any) -> Any:
    """``typing.get_args``; metaclasses among the arguments come back as the tools' own."""
    return tools.tool_value(typing.get_args(tp))


def abstractmethod(funcobj: Any) -> Any:
    """``abc.abstractmethod`` on the tool's own function (it marks the object it is given)."""
    target = getattr(funcobj, "__func__", funcobj) if isinstance(funcobj, (classmethod, staticmethod)) else funcobj
    if not tools.is_tool_object(target):
        raise TypeError("abc.abstractmethod applies only to the tool's own functions")
    return abc.abstractmethod(funcobj)


def final(target: Any) -> Any:
    """``typing.final``: marks the tool's own functions and classes; anything else is
    returned untouched (the standard library ignores objects it cannot mark too)."""
    return typing.final(target) if tools.is_tool_object(target) else target


def no_type_check(target: Any) -> Any:
    """``typing.no_type_check``, marking only the tool's own functions and classes."""
    return typing.no_type_check(target) if tools.is_tool_object(target) else target


def runtime_checkable(cls: Any) -> Any:
    if not tools.is_tool_class(cls):
        raise TypeError("typing.runtime_checkable applies only to the tool's own Protocol classes")
    return typing.runtime_checkable(cls)


# ---------------------------------------------------------------------------------------
# Enum's functional API: Enum("Color", "RED GREEN")
# ---------------------------------------------------------------------------------------


def _member_names(names: Any) -> list[Any]:
    if isinstance(names, str):
        return names.replace(",", " ").split()
    if isinstance(names, typing.Mapping):
        return list(names)
    if names is None:
        return []
    return [item if isinstance(item, str) else item[0] for item in names]


def guard_enum_functional_api() -> None:
    """Make ``Enum("Color", names)`` build a class a class statement could: member names
    that are plain names (a ``__del__`` or ``__set_name__`` "member" would be a method on
    the class), a mixin ``type=`` that is the tool's or a plain value type; and mark the
    class as the tool's, so ``Color.RED._value_`` reads as on a class statement's enum.

    The check wraps ``EnumType._create_`` in this process's ``enum`` module: the child
    runtime's own patch, made once before tools run."""
    original = enum.EnumType.__dict__["_create_"]
    if getattr(original, "_toolpool_guarded", False):
        return

    def _create_(cls: Any, class_name: Any, names: Any, *, module: Any = None, qualname: Any = None,
                 type: Any = None, start: Any = 1, boundary: Any = None) -> Any:  # noqa: A002 - enum's name
        for name in _member_names(names):
            if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
                raise ValueError(f"enum member name {name!r} is not allowed: member names must be identifiers "
                                 "not starting with '_'")
        if type is not None and not tools.is_tool_class(type) and type not in (int, str, float, bytes):
            raise TypeError("an enum's type= mixin must be the tool's own class, int, str, float or bytes")
        created = original(cls, class_name, names, module=module, qualname=qualname, type=type,
                           start=start, boundary=boundary)
        return tools.factory_class(created, "Enum")

    _create_._toolpool_guarded = True  # type: ignore[attr-defined]
    type.__setattr__(enum.EnumType, "_create_", _create_)
