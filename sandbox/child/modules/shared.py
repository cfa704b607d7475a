"""Tables the standard library keeps on its classes, and decimal's context templates, made read-only.

Runs in the template (``freeze_class_tables``, before confinement) and in the confined
child. Lists and dicts are item-writable for tools (a tool's own data), so a mutable
table that a library keeps on a class, and reads on every call, is a way to change that
library for the rest of the process: ``dateutil.parser.parserinfo.MONTHS`` (escape 420),
``textwrap.TextWrapper.unicode_whitespace_trans`` (421). The template replaces each such
table with an immutable one holding the same entries (``Table``, a tuple that still
concatenates with lists, and ``MappingProxyType``), so the library reads what it always
read, and a tool's subclass still overrides a table with its own list.

``decimal.DefaultContext`` (and ``BasicContext``, ``ExtendedContext``) is the template
every new ``Context()`` copies (422). Tools get copies of the three instead, read-only to
the attribute guard with a message that says what to do instead (set the call's own
context); even a write the guard cannot see (an unbound method, a ``MutableMapping``
mixin on ``traps``) reaches only the copy. ``setcontext`` of one of them installs a copy
of it, as ``decimal`` does for the real templates.
"""

from __future__ import annotations

import decimal
import textwrap
from types import MappingProxyType
from typing import Any

from sandbox.child.attributes import register_read_only
from sandbox.child.modules.copying import copyable


@copyable
class Table(tuple):  # type: ignore[type-arg]  # not tuple[Any, ...]: a subscripted base would add __orig_bases__
    """A library's table of names, read-only: a tuple that concatenates with a list into a
    list, as the list it replaces did (``parserinfo.JUMP + ["at"]`` in a subclass)."""

    __slots__ = ()

    def __add__(self, other: Any) -> Any:
        if type(other) is list:
            return list(self) + other
        return tuple.__add__(self, other)

    def __radd__(self, other: Any) -> Any:
        if type(other) is list:
            return other + list(self)
        return NotImplemented


def _frozen(value: Any) -> Any:
    if type(value) is list:
        return Table(value)
    if type(value) is dict:
        return MappingProxyType(dict(value))
    return value


_PARSERINFO_TABLES = ("JUMP", "WEEKDAYS", "MONTHS", "HMS", "AMPM", "UTCZONE", "PERTAIN", "TZOFFSET")


def freeze_class_tables() -> None:
    """Replace the mutable class-level tables of library classes tools may use with
    read-only ones holding the same entries. Call before confinement (the template)."""
    from dateutil import parser

    for name in _PARSERINFO_TABLES:
        setattr(parser.parserinfo, name, _frozen(getattr(parser.parserinfo, name)))
    textwrap.TextWrapper.unicode_whitespace_trans = _frozen(textwrap.TextWrapper.unicode_whitespace_trans)


# ---------------------------------------------------------------------------------------
# decimal's context templates
# ---------------------------------------------------------------------------------------

_TEMPLATE_NAMES = ("DefaultContext", "BasicContext", "ExtendedContext")


def _template_copies() -> MappingProxyType[str, decimal.Context]:
    copies = {}
    for name in _TEMPLATE_NAMES:
        context = getattr(decimal, name).copy()
        message = (
            f"decimal.{name} is read-only in tools (every new context in the process is made from "
            "the templates); set the call's own context instead: decimal.getcontext().prec = 12, "
            "or use decimal.localcontext()"
        )
        for part in (context, context.traps, context.flags):
            register_read_only(part, message)
        copies[name] = context
    return MappingProxyType(copies)


DECIMAL_TEMPLATES = _template_copies()
"""What tools get for decimal.DefaultContext, BasicContext and ExtendedContext."""


def setcontext(context: Any) -> None:
    """``decimal.setcontext``; one of the templates is installed as a copy, as decimal
    does for its own, so the call's context stays the call's."""
    if any(context is template for template in DECIMAL_TEMPLATES.values()):
        context = context.copy()
    decimal.setcontext(context)


DECIMAL_MEMBERS = MappingProxyType({**DECIMAL_TEMPLATES, "setcontext": setcontext})
