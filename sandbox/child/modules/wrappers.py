"""Guarded stand-ins for standard library functions that would step around the guards.

Runs in the confined child. Each function here replaces one member of a module view
(``sandbox/child/views.py`` asks ``sandbox/child/modules/__init__.py`` for them) because
the real one evaluates a string, resolves a dotted path, writes attributes of any object
or copies a function's internals. (``copying.py`` serves ``copy``; ``factories.py`` the
class factories: namedtuple, NamedTuple, dataclasses.)

==========================================  =============================================
``operator.attrgetter("a.b")``              each step through the attribute guard
``operator.methodcaller(name, ...)``        the method read through the attribute guard
``functools.wraps``/``update_wrapper``      only the default ``assigned``/``updated``
                                            (custom ones copy ``__code__`` and friends),
                                            onto a tool function or object only; never
                                            from a class (its namespace would be copied)
``functools.total_ordering``                a tool class only (it sets its methods)
``functools.singledispatch``,               ``register`` reads a string annotation as a
``singledispatchmethod``                    dotted name, never evaluates it
``typing.final``, ``no_type_check``,        mark only the tool's own functions and classes
``dataclass_transform``, ``abc.abstractmethod``
``typing.get_origin``/``get_args``          metaclasses come back as the tools' ``type``
``abc.ABCMeta``                             a handle for ``metaclass=ABCMeta``; never called
``re.compile``, ``search``, ``sub``...      the ``DEBUG`` flag is refused (it prints the
                                            pattern to the process's stdout)
==========================================  =============================================
"""

from __future__ import annotations

import abc
import functools
import re
import types
import typing
from collections.abc import Callable
from typing import Any

from sandbox import policy_tables
from sandbox.child import toolobjects as tools
from sandbox.child.attributes import AttributeGuard, exact_name
from sandbox.child.modules.copying import refuse_copies_of

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

        __slots__ = ("_args", "_kwargs", "_name")

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
        raise TypeError(
            "functools.wraps/update_wrapper take only the default assigned= and updated= in tools "
            "(copying other attributes would copy function internals)"
        )


def update_wrapper(
    wrapper: Any, wrapped: Any, assigned: Any = functools.WRAPPER_ASSIGNMENTS, updated: Any = functools.WRAPPER_UPDATES
) -> Any:
    """``functools.update_wrapper`` onto the tool's own function or object. From the tool's
    own ``wrapped`` everything is copied, as the standard library does; from anything
    else (a standard library function, an instance whose ``__dict__`` holds a library
    base's state) only its labels, never its ``__dict__`` or its
    ``__annotations__``, which tools cannot read on it either. A class, or what stands for
    one (the tools' ``type``, a metaclass handle), is refused: its ``__dict__`` is its
    namespace, and the wrapper's would become a readable copy of it."""
    _check_assigned(assigned, updated)
    _check_wrapper(wrapper)
    if isinstance(wrapped, type) or type(wrapped) in (tools.ToolType, tools.MetaclassHandle):
        raise TypeError("functools.wraps/update_wrapper cannot wrap a class in tools; wrap a function")
    if tools.is_tool_object(wrapped) and not _keeps_library_state(wrapped):
        return functools.update_wrapper(wrapper, wrapped)
    for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
        value = getattr(wrapped, attr, None)
        if value is None or type(value) is str:
            setattr(wrapper, attr, value)
    wrapper.__wrapped__ = wrapped
    return wrapper


def _keeps_library_state(obj: Any) -> bool:
    """A tool instance whose ``__dict__`` also holds a library base's private state (see
    ``toolobjects.instance_state_owner``): copying it would hand that state to the wrapper."""
    return tools.is_tool_instance(obj) and tools.instance_state_owner(type(obj)) is not None


def wraps(
    wrapped: Any, assigned: Any = functools.WRAPPER_ASSIGNMENTS, updated: Any = functools.WRAPPER_UPDATES
) -> Callable[[Any], Any]:
    _check_assigned(assigned, updated)

    def decorate(wrapper: Any) -> Any:
        return update_wrapper(wrapper, wrapped)

    return decorate


def total_ordering(cls: Any) -> Any:
    if not tools.is_tool_class(cls):
        raise TypeError("functools.total_ordering applies only to the tool's own classes")
    return functools.total_ordering(cls)


ABC_META = tools.MetaclassHandle(abc.ABCMeta)


# ---------------------------------------------------------------------------------------
# functools.singledispatch: register() without typing.get_type_hints
# ---------------------------------------------------------------------------------------

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_UNION_TYPES = (typing._GenericAlias, types.UnionType)  # type: ignore[attr-defined]  # private, absent from typeshed


def _annotation_class(implementation: Any, guard: AttributeGuard) -> Any:
    """The class a ``@f.register`` implementation's first parameter is annotated with.

    The standard library reads it with ``typing.get_type_hints``, which evaluates a string
    annotation (every annotation, under ``from __future__ import annotations``) as code,
    outside the sandbox's compiler. Here only the tool's own functions are read, and a
    string annotation must be a dotted name (``"int"``, ``"models.Booking"``), or such
    names joined by ``|``: the first part is looked up in the function's module, then its
    builtins, each further step through the attribute guard. Nothing is evaluated."""
    func = implementation
    if isinstance(func, (classmethod, staticmethod)):
        func = func.__func__
    if not tools.is_tool_function(func):
        raise TypeError(
            "register() reads the annotations of the tool's own functions only; pass the class: @f.register(SomeClass)"
        )
    annotations = func.__annotations__
    params = [name for name in annotations if name != "return"]
    if not params:
        raise TypeError(
            f"Invalid first argument to `register()`: {implementation!r}. Use either "
            "`@register(some_class)` or plain `@register` on an annotated function."
        )
    annotation = annotations[params[0]]
    if not isinstance(annotation, str):
        return annotation
    text = str.__str__(annotation)
    namespace = func.__globals__
    classes = []
    for part in text.split("|"):
        part = part.strip()
        if not _DOTTED.fullmatch(part):
            raise TypeError(
                f"register(): in tools a string annotation must name a class (such as 'int' or "
                f"'models.Booking'), not {text!r}; annotate with a class, or pass it: "
                "@f.register(SomeClass)"
            )
        first, *rest = part.split(".")
        if part == "None":
            value: Any = type(None)
        elif first in namespace:
            value = namespace[first]
        elif first in namespace["__builtins__"]:
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
            if func is None and not isinstance(cls, type) and not isinstance(cls, _UNION_TYPES):
                implementation = cls
                return real_register(_annotation_class(implementation, guard), implementation)
            return real_register(cls, func)

        dispatcher.register = register  # type: ignore[method-assign]  # this dispatcher's own, on purpose
        return dispatcher

    class singledispatchmethod(functools.singledispatchmethod):  # type: ignore[type-arg]  # noqa: N801 - functools' name; unsubscripted: no __orig_bases__
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
    """``typing.no_type_check``, marking only the tool's own functions and classes: for a
    class, the functions and nested classes defined in its own body (the standard library
    walks every attribute, inherited ones too, and marks what looks defined there)."""
    if tools.is_tool_class(target):
        for value in list(tools.class_namespace(target).values()):
            inner = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
            if tools.is_tool_function(inner):
                inner.__no_type_check__ = True  # type: ignore[union-attr]  # a plain function: is_tool_function said so
            elif tools.is_tool_class(inner) and inner.__qualname__ == f"{target.__qualname__}.{inner.__name__}":
                no_type_check(inner)
    if tools.is_tool_object(target):
        target.__no_type_check__ = True
    return target


def dataclass_transform(**kwargs: Any) -> Callable[[Any], Any]:
    """``typing.dataclass_transform``: its decorator marks only the tool's own functions
    and classes; anything else is returned untouched."""
    decorator = typing.dataclass_transform(**kwargs)

    def decorate(target: Any) -> Any:
        return decorator(target) if tools.is_tool_object(target) else target

    return decorate


def runtime_checkable(cls: Any) -> Any:
    if not tools.is_tool_class(cls):
        raise TypeError("typing.runtime_checkable applies only to the tool's own Protocol classes")
    return typing.runtime_checkable(cls)


# ---------------------------------------------------------------------------------------
# re: every function that takes flags
# ---------------------------------------------------------------------------------------


def _flags(flags: Any) -> int:
    """The flags as the int ``re`` will use; ``re.DEBUG`` is refused."""
    if isinstance(flags, re.RegexFlag):
        value = int(flags.value)
    elif isinstance(flags, int):
        value = int.__int__(flags)  # the value itself, whatever a subclass says of it
    else:
        raise TypeError(f"re flags must be an int such as re.IGNORECASE | re.MULTILINE, not {type(flags).__name__!r}")
    if value & re.DEBUG:
        raise ValueError(f"re.DEBUG is not available to tools: {policy_tables.LEFT_OUT['re']['DEBUG']}")
    return value


def re_compile(pattern: Any, flags: Any = 0) -> Any:
    return re.compile(pattern, _flags(flags))


def re_search(pattern: Any, string: Any, flags: Any = 0) -> Any:
    return re.search(pattern, string, _flags(flags))


def re_match(pattern: Any, string: Any, flags: Any = 0) -> Any:
    return re.match(pattern, string, _flags(flags))


def re_fullmatch(pattern: Any, string: Any, flags: Any = 0) -> Any:
    return re.fullmatch(pattern, string, _flags(flags))


def re_split(pattern: Any, string: Any, maxsplit: Any = 0, flags: Any = 0) -> Any:
    return re.split(pattern, string, maxsplit=maxsplit, flags=_flags(flags))


def re_findall(pattern: Any, string: Any, flags: Any = 0) -> Any:
    return re.findall(pattern, string, _flags(flags))


def re_finditer(pattern: Any, string: Any, flags: Any = 0) -> Any:
    return re.finditer(pattern, string, _flags(flags))


def re_sub(pattern: Any, repl: Any, string: Any, count: Any = 0, flags: Any = 0) -> Any:
    return re.sub(pattern, repl, string, count=count, flags=_flags(flags))


def re_subn(pattern: Any, repl: Any, string: Any, count: Any = 0, flags: Any = 0) -> Any:
    return re.subn(pattern, repl, string, count=count, flags=_flags(flags))


def _named(function: Callable[..., Any], name: str) -> Callable[..., Any]:
    function.__name__ = function.__qualname__ = name
    function.__module__ = "re"
    return function


RE_FUNCTIONS = {
    name: _named(function, name)
    for name, function in (
        ("compile", re_compile),
        ("search", re_search),
        ("match", re_match),
        ("fullmatch", re_fullmatch),
        ("split", re_split),
        ("findall", re_findall),
        ("finditer", re_finditer),
        ("sub", re_sub),
        ("subn", re_subn),
    )
}
"""The ``re`` functions that take flags, as tools get them."""
