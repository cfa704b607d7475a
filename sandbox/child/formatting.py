"""``str.format`` and ``str.format_map`` for tool code, with every field step guarded.

Runs in the confined child. The C implementation of ``str.format`` resolves a field such
as ``{0.gi_frame.f_globals}`` or ``{0[key].__init__}`` with plain ``getattr``/``[]``,
outside the attribute guard (CVE-2023-41039; ``string.Formatter`` does the same in Python,
CVE-2026-76825). So the attribute guard (``sandbox/child/attributes.py``) never hands a
tool the real method: reading ``"...".format``, ``str.format`` or ``str.format_map`` by any
spelling yields one of the functions below instead.

The same goes for library methods that call ``str.format`` on data of theirs:
``collections.UserString.format``/``format_map`` (``self.data.format(...)``, escape 418)
are replaced, by whatever spelling they are read, with ``through_data``, which reads the
object's ``data`` and its ``format`` through the guard.

They parse the template with the interpreter's own parser (``_string.formatter_parser``,
the one ``str.format`` uses) and resolve each field step (``.attr`` through the attribute
guard, ``[key]`` as an item), including fields nested inside a format spec. So whatever
``a.b`` refuses, a field refuses. The rest is ``str.format``'s behaviour: automatic and
manual numbering (and the error for mixing them), conversions ``!r``/``!s``/``!a``,
nesting at most two levels deep, and ``format(value, spec)`` for each value.
"""

from __future__ import annotations

import _string  # type: ignore[import-not-found]  # the C helpers behind str.format and string.Formatter; typeshed has no stub
from collections.abc import Mapping
from typing import Any

_MAX_NESTING = 2  # as str.format: a field in a spec's spec is "Max string recursion exceeded"


class Formatter:
    """The guarded formatter of one attribute guard."""

    __slots__ = ("_guard",)

    def __init__(self, guard: Any):
        self._guard = guard
        guard.formatter = self

    # -- what the attribute guard hands out ----------------------------------------------

    def bound(self, template: str, method: str) -> Any:
        """``template.format`` / ``template.format_map`` for a given template."""
        render = self.render
        text = str.__str__(template)
        if method == "format":

            def format(*args: Any, **kwargs: Any) -> str:  # noqa: A001 - str.format's name
                return render(text, args, kwargs)

            return format

        def format_map(mapping: Any, /) -> str:
            return render(text, (), mapping)

        return format_map

    def unbound(self, method: str) -> Any:
        """``str.format`` / ``str.format_map``, called with the template first."""
        render = self.render
        if method == "format":

            def format(template: Any, /, *args: Any, **kwargs: Any) -> str:  # noqa: A001
                return render(_template(template), args, kwargs)

            return format

        def format_map(template: Any, mapping: Any, /) -> str:
            return render(_template(template), (), mapping)

        return format_map

    def through_data(self, method: str, owner: Any = None) -> Any:
        """``UserString.format``/``format_map``, which call ``self.data.format``: bound to
        ``owner``, or unbound (the object comes first) when ``owner`` is None."""
        guard = self._guard

        def forward(target: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            return guard.get(guard.get(target, "data"), method)(*args, **kwargs)

        if owner is None:

            def unbound(target: Any, /, *args: Any, **kwargs: Any) -> Any:
                return forward(target, args, kwargs)

            unbound.__name__ = unbound.__qualname__ = method
            return unbound

        def bound(*args: Any, **kwargs: Any) -> Any:
            return forward(owner, args, kwargs)

        bound.__name__ = bound.__qualname__ = method
        return bound

    # -- rendering -----------------------------------------------------------------------

    def render(self, template: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
        text, _ = self._render(template, args, kwargs, _MAX_NESTING, 0)
        return text

    def _render(
        self, template: str, args: tuple[Any, ...], kwargs: Mapping[str, Any], depth: int, auto_index: int | None
    ) -> tuple[str, int | None]:
        """``auto_index`` is the next automatic field number, 0 before any field was
        numbered, None once a field was numbered by hand (as ``str.format`` tracks it)."""
        parts: list[str] = []
        for literal, field, spec, conversion in _string.formatter_parser(template):
            if literal:
                parts.append(literal)
            if field is None:
                continue
            if depth <= 0:
                raise ValueError("Max string recursion exceeded")
            first, rest = _string.formatter_field_name_split(field)
            if first == "":
                if auto_index is None:
                    raise ValueError("cannot switch from manual field specification to automatic field numbering")
                first = auto_index
                auto_index += 1
            elif type(first) is int:
                if auto_index:
                    raise ValueError("cannot switch from automatic field numbering to manual field specification")
                auto_index = None
            value = self._field(first, rest, args, kwargs)
            value = _convert(value, conversion)
            if spec and "{" in spec:
                spec, auto_index = self._render(spec, args, kwargs, depth - 1, auto_index)
            parts.append(format(value, spec or ""))
        return "".join(parts), auto_index

    def _field(self, first: int | str, rest: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
        if type(first) is int:
            if first >= len(args):
                raise IndexError(f"Replacement index {first} out of range for positional args tuple")
            value = args[first]
        else:
            value = kwargs[first]  # type: ignore[index]  # a str: _string names a field by an exact int or str
        guard = self._guard
        for is_attribute, step in rest:
            value = guard.get(value, step) if is_attribute else value[step]
        return value


def _template(template: Any) -> str:
    if not isinstance(template, str):
        raise TypeError(f"descriptor 'format' for 'str' objects doesn't apply to a '{type(template).__name__}' object")
    return str.__str__(template)


def _convert(value: Any, conversion: str | None) -> Any:
    if conversion is None:
        return value
    if conversion == "r":
        return repr(value)
    if conversion == "s":
        return str(value)
    if conversion == "a":
        return ascii(value)
    raise ValueError(f"Unknown conversion specifier {conversion}")
