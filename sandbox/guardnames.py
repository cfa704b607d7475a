"""The names compiled tool code calls its guards by. DATA ONLY; shared by both sides.

``sandbox/compile/compiler.py`` (supervisor) compiles every attribute read, item read, loop,
unpacking, write, in-place operation and star-call of tool code into a call of a guard.
RestrictedPython emits those calls under names such as ``_getattr_``; the compiler then
renames each name *it* emitted (never one the tool wrote) to the name below.
``sandbox/child/guards.py`` (child) binds the guards under the same names.

No tool can spell these names: ``$`` is not an identifier character in any normalization,
so no assignment, parameter, import alias, ``global``, ``except ... as``, ``match``
capture or any later syntax can bind, shadow or delete a guard, and a tool is free to
name its own things ``_getattr_`` or ``_write_``. (RestrictedPython's own answer, refusing
every name that starts with ``_``, refused ordinary Python; and each new binding form
was a new way to shadow a guard: GHSA-ffg3-p8fm-mjx2.)
"""

from __future__ import annotations

GUARD_NAMES: dict[str, str] = {
    "_getattr_": "$getattr",
    "_getitem_": "$getitem",
    "_getiter_": "$getiter",
    "_iter_unpack_sequence_": "$iter_unpack",
    "_unpack_sequence_": "$unpack",
    "_write_": "$write",
    "_inplacevar_": "$inplace",
    "_apply_": "$apply",
}
"""RestrictedPython's name for each guard -> the name compiled code uses."""

TEMPORARY_PREFIX = "$tmp"
"""RestrictedPython's temporaries (``_tmp0``...) become ``$tmp0``..."""

AUGMENTED_PREFIX = "$aug"
"""Temporaries of ``a[f()] += v``: the object and key, evaluated once (``$aug0``...)."""
