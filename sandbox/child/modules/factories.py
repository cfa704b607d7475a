"""Class factories for tools: namedtuple, NamedTuple, dataclasses, Enum's functional API.

Runs in the template (``guard_dataclass_fields``, ``guard_enum_functional_api``: the
child runtime's own patches of ``dataclasses`` and ``enum``, made once before
confinement) and in the confined child. Each factory here builds a class the class guard
(``sandbox/child/toolobjects.py``) never saw, so the class it builds is checked like a
class statement and registered as the tool's.

``dataclasses`` writes source code from the field names and ``exec()``s it, outside the
sandbox's compiler: a name that is a ``str`` subclass can make its ``__format__`` write
code (escape cases 401-402, 423). So every name reaching that code generation is checked
where ``dataclasses`` itself takes it (``_get_field``): an exact ``str`` identifier, and a
field object that is exactly ``dataclasses.Field`` (a subclass's ``name`` or
``_field_type`` could be a property that answers differently each time it is read).
Fields inherited from a base come from its ``__dataclass_fields__``, which only
``dataclasses`` writes (tools read a read-only copy of it).
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import keyword
import typing
from typing import Any

from sandbox.child import toolobjects as tools

# ---------------------------------------------------------------------------------------
# namedtuple and NamedTuple
# ---------------------------------------------------------------------------------------


def namedtuple(
    typename: Any, field_names: Any, *, rename: bool = False, defaults: Any = None, module: Any = None
) -> type:
    if module is not None:
        raise TypeError("namedtuple(module=...) is not available to tools")
    cls = collections.namedtuple(typename, field_names, rename=rename, defaults=defaults)  # type: ignore[misc, arg-type]  # mypy reads only literal namedtuple calls
    return tools.factory_class(cls, "namedtuple")


_REAL_NAMED_TUPLE = typing.NamedTuple


def NamedTuple(typename: Any, fields: Any = None, /, **kwargs: Any) -> type:  # noqa: N802 - typing's name
    cls = _REAL_NAMED_TUPLE(typename, fields, **kwargs) if fields is not None else _REAL_NAMED_TUPLE(typename, **kwargs)
    return tools.factory_class(typing.cast(type, cls), "NamedTuple")  # called, typing.NamedTuple builds a class


def _named_tuple_bases(bases: tuple[Any, ...]) -> tuple[type, ...]:
    # `class P(NamedTuple)`: the same base typing's own NamedTuple gives (its hook asserts
    # that typing.NamedTuple itself is among the bases, so it cannot be reused here)
    return (typing._NamedTuple,)  # type: ignore[attr-defined]  # private, absent from typeshed


NamedTuple.__mro_entries__ = _named_tuple_bases  # type: ignore[attr-defined]  # a function's attribute at run time; typeshed makes NamedTuple a class


# ---------------------------------------------------------------------------------------
# dataclasses
# ---------------------------------------------------------------------------------------


def field_name_problem(name: Any) -> str | None:
    """Why ``name`` cannot be a dataclass field name in tools, or None."""
    if type(name) is not str:
        return (
            f"field names must be plain str identifiers in tools, not {type(name).__name__!r} objects "
            "(dataclasses writes them into code)"
        )
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("__"):
        return f"field names must be identifiers not starting with '__', got {name!r}"
    return None


def _check_field_names(cls: type) -> None:
    """dataclasses writes each field name into source code it exec()s: only identifiers."""
    annotations = tools.class_namespace(cls).get("__annotations__", {})
    for name in annotations:
        problem = field_name_problem(name)
        if problem is not None:
            raise TypeError(f"dataclass {cls.__name__}: {problem}")


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


# What dataclasses itself writes on a class: fields from a namespace would be read as a
# base's fields by every subclass, around the checks of _get_field.
_DATACLASS_INTERNALS = frozenset({"__dataclass_fields__", "__dataclass_params__"})


def _check_namespace(cls_name: str, namespace: Any) -> None:
    """A make_dataclass namespace: plain str keys, no hook members (as a class statement),
    nothing dataclasses writes itself."""
    keys = list(namespace)
    for key in keys:
        if type(key) is not str:
            raise TypeError(f"make_dataclass {cls_name}: namespace keys must be plain str")
    tools.check_members(cls_name, keys)
    for key in keys:
        if key in _DATACLASS_INTERNALS:
            raise TypeError(
                f"make_dataclass {cls_name}: the namespace may not set {key!r} in tools (dataclasses computes it)"
            )


def make_dataclass(cls_name: Any, fields: Any, *, bases: Any = (), namespace: Any = None, **options: Any) -> type:
    if not isinstance(cls_name, str):
        raise TypeError("make_dataclass: the class name must be a str")
    cls_name = str.__str__(cls_name)
    checked = []
    for item in fields:
        if isinstance(item, str):
            item = (item,)
        item = tuple(item)
        problem = field_name_problem(item[0]) if item else "each field is a name or a (name, type[, field]) tuple"
        if problem is not None:
            raise TypeError(f"make_dataclass: {problem}")
        if len(item) == 3 and type(item[2]) is not dataclasses.Field:
            raise TypeError("make_dataclass: a field's third item must come from dataclasses.field(...)")
        checked.append(item[0] if len(item) == 1 else item)
    if namespace is not None:
        _check_namespace(cls_name, namespace)
    tools.check_bases(cls_name, tuple(bases))
    if "module" in options:
        raise TypeError("make_dataclass(module=...) is not available to tools")
    cls = dataclasses.make_dataclass(cls_name, checked, bases=tuple(bases), namespace=namespace, **options)
    return tools.factory_class(cls, "make_dataclass")


_REAL_GET_FIELD = dataclasses._get_field  # type: ignore[attr-defined]  # private, absent from typeshed


def _get_field(cls: Any, a_name: Any, a_type: Any, *args: Any) -> Any:
    """``dataclasses._get_field``, where every field of a class being processed is made:
    the name is checked before dataclasses uses it, and the field must be exactly a
    ``dataclasses.Field`` (a subclass could answer ``name`` differently each time)."""
    problem = field_name_problem(a_name)
    if problem is not None:
        raise TypeError(f"dataclass: {problem}")
    made = _REAL_GET_FIELD(cls, a_name, a_type, *args)
    if type(made) is not dataclasses.Field:
        raise TypeError(
            f"dataclass: field {a_name!r} is a {type(made).__name__} object; in tools a field's "
            "default must come from dataclasses.field(...), not a subclass of Field"
        )
    return made


def guard_dataclass_fields() -> None:
    """Check every field where ``dataclasses`` makes it (see the module docstring). The
    child runtime's own patch of ``dataclasses``, made once before tools run."""
    if dataclasses._get_field is not _get_field:  # type: ignore[attr-defined]  # private, absent from typeshed
        dataclasses._get_field = _get_field  # type: ignore[attr-defined]  # private, absent from typeshed


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

    def _create_(
        cls: Any,
        class_name: Any,
        names: Any,
        *,
        module: Any = None,
        qualname: Any = None,
        type: Any = None,  # noqa: A002 - Enum's functional API names it so
        start: Any = 1,
        boundary: Any = None,
    ) -> Any:
        for name in _member_names(names):
            if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
                raise ValueError(
                    f"enum member name {name!r} is not allowed: member names must be identifiers not starting with '_'"
                )
        if type is not None and not tools.is_tool_class(type) and type not in (int, str, float, bytes):
            raise TypeError("an enum's type= mixin must be the tool's own class, int, str, float or bytes")
        created = original(
            cls, class_name, names, module=module, qualname=qualname, type=type, start=start, boundary=boundary
        )
        return tools.factory_class(created, "Enum")

    _create_._toolpool_guarded = True  # type: ignore[attr-defined]  # a marker on the function, on purpose
    type.__setattr__(enum.EnumType, "_create_", _create_)
