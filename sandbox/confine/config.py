"""What the confinement is asked for (``ConfinementConfig``) and what the template's
preparation leaves for its children (``Prepared``).

Plain data, imported by three processes: the supervisor builds a ``ConfinementConfig``
and sends it to the template as JSON (``dataclasses.asdict``); the template rebuilds it
and hands it to ``template_side.prepare_template``, which returns a ``Prepared``; each
child inherits that ``Prepared`` through ``fork()`` and passes it to
``child_side.confine_child``. Importing this module loads no libc binding.

Test-only switches (``test_only_*``) disable ONE layer so a test can show that each
remaining layer stops its attack on its own; production never sets them, and
``prepare_template`` logs a warning when one is set. ``enabled=False`` is the explicit
development opt-out (``--insecure-no-confinement``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ConfinementConfig:
    """How the template confines its children. JSON round-trips (``dataclasses.asdict``)."""

    # False is the explicit development opt-out (--insecure-no-confinement): prepare and
    # confine then only close fds and set rlimits, and a warning says so loudly.
    enabled: bool = True
    # Each child runs as a uid of its own, uid_base <= uid < uid_base + uid_count, so
    # that children cannot signal or trace each other. In a user namespace (unprivileged
    # template) only one uid can be mapped: every child runs as uid_base there.
    uid_base: int = 200_000
    uid_count: int = 50_000
    # A private tmpfs on /tmp per child, limits.tmp_bytes big (about 110 us per child:
    # see bench/confine_cost.py). False: /tmp is the read-only, empty directory of the
    # shared root, and tools have no scratch space at all.
    private_tmp: bool = True
    tmp_inodes: int = 512  # tmpfs inodes are not counted in tmp_bytes; cap them too
    hostname: str = "toolpool"
    # Imported before pivot_root, on top of template_side.DEFAULT_PRELOAD.
    preload_modules: tuple[str, ...] = ()
    # TEST ONLY. Each switch removes one layer so that a test can show the others hold
    # on their own. Production never sets them; prepare_template warns when one is set.
    test_only_without_seccomp: bool = False
    test_only_without_network_namespace: bool = False

    def __post_init__(self) -> None:
        # JSON turns the tuple into a list; keep the dataclass hashable and frozen in spirit.
        object.__setattr__(self, "preload_modules", tuple(self.preload_modules))
        if not (self.uid_base > 0 and self.uid_count > 0 and self.uid_base + self.uid_count < 2**32 - 1):
            raise ValueError("uid_base and uid_count must name a range of non-root uids")
        if self.tmp_inodes < 1:
            raise ValueError("tmp_inodes must be positive")
        if not self.hostname or len(self.hostname) > 64:
            raise ValueError("hostname must be 1 to 64 characters")

    def child_uid(self, serial: int) -> int:
        """The uid of the ``serial``-th child. Callers keep at most uid_count children alive."""
        return self.uid_base + serial % self.uid_count


@dataclass(frozen=True)
class Prepared:
    """What ``prepare_template`` leaves for ``confine_child``; inherited through fork."""

    config: ConfinementConfig
    mode: str  # "privileged", "user-namespace" or "disabled"
    template_pid: int
    bpf: bytes = b""  # the compiled filter, classic BPF, host byte order; empty without seccomp
    # The template's hard rlimits: a child cannot raise above them (no CAP_SYS_RESOURCE).
    hard_limits: Mapping[int, int] = field(default_factory=dict, compare=False)
    # ctypes objects built once in the template, used by address in the child: a child's
    # cost is mostly first-touch page faults, and every new Python object adds some.
    _fprog: Any = field(default=None, repr=False, compare=False)  # keeps the buffer alive
    _fprog_address: int = field(default=0, repr=False, compare=False)
    _empty_caps: Any = field(default=None, repr=False, compare=False)  # a syscalls.EmptyCaps


__all__ = ["ConfinementConfig", "Prepared"]
