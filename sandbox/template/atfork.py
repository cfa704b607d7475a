"""Keep the standard library's at-fork hooks out of the template's children.

Importing ``random``, ``threading`` and ``logging`` registers ``os.register_at_fork``
hooks: ``random`` reseeds its module-level generator, ``threading`` rebuilds its thread
table and locks, ``logging`` reinitialises its handlers' locks. In a forked child they
are the first Python code to run, and in CPython 3.11 running code writes to the objects
it touches (reference counts, the adaptive interpreter's counters), so each hook
copy-on-write faults pages of the template's heap. Measured on this kind of VM by forking
a process that imports what the template imports and reading the child's rusage at its
first line of Python: 245 faults and 594 us of CPU with the hooks, 117 and 291 us without
(median of 80). Some of those pages the call touches later anyway: a whole child's faults
fell by about 60 (bench/README.md).

The template needs none of them: it is single-threaded (so no lock can be held by another
thread at fork, and the child's thread table is already right), it configures no logging,
and every child reseeds ``random`` itself (``Template._become_child``), which is the one
hook whose effect matters for isolation. So the template calls ``forget()`` before it
imports anything that registers a hook; later registrations are recorded, not run.

Only a process that forks children which never start a thread may do this: never call it
in the server, whose libraries may fork for their own reasons.
"""

from __future__ import annotations

import os
import sys

# Modules whose import registers a hook; forget() must run before any of them is imported.
_REGISTRANTS = ("random", "threading", "logging")

# What was registered after forget(): (module, {"before"|"after_in_child"|...: qualname}).
FORGOTTEN: list[tuple[str, dict[str, str]]] = []


def _record(**hooks: object) -> None:  # os.register_at_fork's keywords, recorded
    caller = sys._getframe(1).f_globals.get("__name__", "?")
    FORGOTTEN.append((caller, {when: getattr(fn, "__qualname__", repr(fn)) for when, fn in hooks.items()}))


def forget() -> None:
    """From now on, ``os.register_at_fork`` records its hooks instead of registering them."""
    early = [name for name in _REGISTRANTS if name in sys.modules]
    if early:
        raise RuntimeError(
            f"atfork.forget() must run before {', '.join(early)} is imported: their hooks are already registered"
        )
    os.register_at_fork = _record
