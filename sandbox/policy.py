"""The policy a tool runs under, as frozen data.

A ``Policy`` names everything a tool may use: the modules it may import (and which
names of each), the builtins, the attribute names that are always refused, and the
resource ``Limits``. Anything the policy does not name is refused. The default tables
live in ``sandbox/policy_tables.py``, a data-only module with a reason beside each
entry. Build variants with the ``with_*`` methods; a policy is never mutated.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sandbox import policy_tables

START_FUNCTION = "start_function"


@dataclass(frozen=True)
class Limits:
    """Per-call resource limits. Each overrun has its own status."""

    # Wall clock: the caller's deadline is capped by the tool kind's default.
    start_deadline_ms: int = 1_000  # start_function: the greeting waits on it
    deadline_ms: int = 5_000  # every other tool
    # CPU seconds per call: the child's ITIMER_PROF (SIGPROF -> cpu_limit), armed when it is
    # shorter than the deadline. RLIMIT_CPU, in whole seconds above it, is the backstop:
    # SIGXCPU, then the kernel's SIGKILL.
    cpu_seconds: int = 2
    memory_bytes: int = 256 * 1024 * 1024  # address space of the child
    # Output caps, each checked on the serialized JSON size.
    return_bytes: int = 64 * 1024
    state_bytes: int = 1024 * 1024
    log_bytes: int = 64 * 1024
    log_records: int = 1_000
    # Files: the child's private /tmp and any file it writes.
    tmp_bytes: int = 4 * 1024 * 1024
    file_size_bytes: int = 1024 * 1024
    open_files: int = 32
    # Compile-time input cap.
    source_bytes: int = 256 * 1024  # parsing is about 2 us per byte
    # The confined compile of one bundle (sandbox/supervisor/confined_compile.py): the compile worker's
    # address space, CPU, wall time and the size of the compiled bundle it may answer with.
    compile_memory_bytes: int = 256 * 1024 * 1024
    compile_cpu_seconds: int = 2
    compile_wall_ms: int = 3_000
    compile_output_bytes: int = 4 * 1024 * 1024

    def deadline_for(self, function: str, requested_ms: int | None) -> int:
        """The effective deadline: the caller's, capped by the tool kind's default."""
        cap = self.start_deadline_ms if function == START_FUNCTION else self.deadline_ms
        if requested_ms is None or requested_ms <= 0:
            return cap
        return min(int(requested_ms), cap)

    def reply_bytes(self) -> int:
        """Largest reply the supervisor will read from a child before calling it output_limit."""
        return self.return_bytes + self.state_bytes + self.log_bytes + 64 * 1024

    def with_(self, **changes: Any) -> Limits:
        for name, value in changes.items():
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"limits.{name} must be a positive integer, got {value!r}")
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class ModuleRule:
    """One importable module: the names a tool may take from it, and why it is allowed."""

    reason: str
    names: frozenset[str]


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Policy:
    modules: Mapping[str, ModuleRule] = field(
        default_factory=lambda: _frozen(
            {name: ModuleRule(reason, frozenset(names)) for name, (reason, names) in policy_tables.MODULES.items()}
        )
    )
    builtins: Mapping[str, str] = field(default_factory=lambda: _frozen(policy_tables.BUILTINS))
    forbidden_attributes: Mapping[str, str] = field(default_factory=lambda: _frozen(policy_tables.FORBIDDEN_ATTRIBUTES))
    limits: Limits = field(default_factory=Limits)

    def with_limits(self, **changes: Any) -> Policy:
        return dataclasses.replace(self, limits=self.limits.with_(**changes))

    def with_module(self, name: str, reason: str, names: frozenset[str] | set[str]) -> Policy:
        modules = dict(self.modules)
        modules[name] = ModuleRule(reason, frozenset(names))
        return dataclasses.replace(self, modules=_frozen(modules))

    def without_module(self, name: str) -> Policy:
        modules = dict(self.modules)
        modules.pop(name, None)
        return dataclasses.replace(self, modules=_frozen(modules))

    # Both are derived once per policy (the policy is frozen): every call's frame carries
    # the spec, and reuse mode keys its children by the fingerprint. Callers only read them.
    @functools.cached_property
    def child_spec(self) -> dict[str, Any]:
        """The plain-data form the child's guards are built from (``make_globals``)."""
        return {
            "modules": {name: sorted(rule.names) for name, rule in self.modules.items()},
            "builtins": sorted(self.builtins),
            "forbidden": sorted(self.forbidden_attributes),
        }

    @functools.cached_property
    def _fingerprint(self) -> str:
        blob = json.dumps({**self.child_spec, "source_bytes": self.limits.source_bytes}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def fingerprint(self) -> str:
        """A content hash of the compile-relevant parts, used as part of the compile cache key."""
        return self._fingerprint

    @classmethod
    def from_child_spec(cls, spec: Mapping[str, Any], limits: Limits) -> Policy:
        """The policy a ``child_spec`` describes, as the compile worker rebuilds it. Reasons
        are the default tables' where they have one (they only word messages)."""
        modules = {
            name: ModuleRule(policy_tables.MODULES.get(name, ("allowed by the policy",))[0], frozenset(names))
            for name, names in spec["modules"].items()
        }
        builtins = {name: policy_tables.BUILTINS.get(name, "allowed by the policy") for name in spec["builtins"]}
        forbidden = {
            name: policy_tables.FORBIDDEN_ATTRIBUTES.get(name, "refused by the policy") for name in spec["forbidden"]
        }
        return cls(
            modules=_frozen(modules), builtins=_frozen(builtins), forbidden_attributes=_frozen(forbidden), limits=limits
        )

    @functools.cached_property
    def frame_spec(self) -> dict[str, Any]:
        """What a call's frame says of the policy. The child runtime has the default policy
        prepared before it is forked (``sandbox.child.guards``), so for it the frame carries
        only the fingerprint; any other policy travels whole, with its fingerprint."""
        if self.fingerprint() == _default_fingerprint():
            return {"fingerprint": self.fingerprint()}
        return {"fingerprint": self.fingerprint(), **self.child_spec}


DEFAULT_POLICY = Policy()


def _default_fingerprint() -> str:
    return DEFAULT_POLICY.fingerprint()
