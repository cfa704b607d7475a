"""Compiles of tenants' bundles: fair between tenants, bounded, and always confined.

Every compile the service does (a Deploy, the first call of a version this replica has
not compiled yet) goes through ``CompileGate.compile``: it waits its turn, then runs in a
confined compile worker (``sandbox.supervisor.confined_compile``), never in this process.

Fairness. Each tenant has its own queue, and a free slot goes to the waiting tenant
served least recently (round robin), never by arrival order: one tenant's flood of
deploys waits behind itself, while another tenant's deploy or first call goes at the
next free slot.
At most ``concurrency`` compiles run at once (default 1: the other cores stay with the
calls; a compile worker also runs at a lower scheduling priority than calls).

Bounds. A tenant may have ``per_tenant`` compiles waiting, and all tenants together
``total``; past either, or when a compile cannot start before the caller's deadline,
the answer is ``Refused`` (RESOURCE_EXHAUSTED, reason OVERLOADED or TENANT_LIMIT) with a
retry hint from recent compile times. Nothing waits without bound.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.bundles import Bundle
from sandbox.policy import Policy
from sandbox.supervisor.confined_compile import ConfinedCompiler
from worker.errors import Refused, Unavailable

_SERVED_KEPT = 4096
"""Tenants whose last turn the gate remembers; older ones count as never served."""


@dataclass(frozen=True)
class CompileLimits:
    concurrency: int = 1
    per_tenant: int = 4
    total: int = 32

    def __post_init__(self) -> None:
        for name in ("concurrency", "per_tenant", "total"):
            if getattr(self, name) < 1:
                raise ValueError(f"compile.{name} must be at least 1")


class CompileGate:
    """Fair, bounded admission of confined compiles. Thread-safe."""

    def __init__(
        self,
        compiler: ConfinedCompiler,
        limits: CompileLimits = CompileLimits(),
        *,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._compiler = compiler
        self._limits = limits
        self._clock = clock
        self._cond = threading.Condition()
        self._queues: dict[str, collections.deque[int]] = {}  # tenant -> its waiting tickets, in order
        self._served: dict[str, int] = {}  # tenant -> the number of its last turn (recent tenants only)
        self._tickets = 0
        self._turns = 0
        self._running = 0
        self._waiting = 0
        self._closed = False
        self._recent_s: collections.deque[float] = collections.deque(maxlen=32)
        self.counters: collections.Counter[str] = collections.Counter()

    def compile(self, tenant: str, files: Mapping[str, str], policy: Policy, *, wait_until: float) -> Bundle:
        """Compile ``files`` for ``tenant`` once its turn comes, before ``wait_until``
        (a ``clock()`` value). Raises what ``ConfinedCompiler.compile`` raises, ``Refused``
        when the queue is full or the turn would come too late, ``Unavailable`` once closed."""
        self._enter(tenant, wait_until)
        started = self._clock()
        try:
            return self._compiler.compile(files, policy, tenant=tenant)  # its CPU is the tenant's
        finally:
            self._leave(self._clock() - started)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def info(self) -> dict[str, int]:
        with self._cond:
            return {"running": self._running, "waiting": self._waiting, **self.counters}

    # -- turns -------------------------------------------------------------------------

    def _retry_ms(self) -> int:
        typical = sorted(self._recent_s)[len(self._recent_s) // 2] if self._recent_s else 0.05
        return int(1000 * typical * (self._waiting + 1) / self._limits.concurrency) + 1

    def _enter(self, tenant: str, wait_until: float) -> int:
        limits = self._limits
        with self._cond:
            if self._closed:
                raise Unavailable("the server is draining; nothing was compiled", reason="DRAINING")
            queue = self._queues.setdefault(tenant, collections.deque())
            if len(queue) >= limits.per_tenant:
                self.counters["refused_tenant"] += 1
                raise Refused(
                    f"tenant {tenant!r} already has {len(queue)} compiles waiting; nothing was compiled",
                    retry_after_ms=self._retry_ms(),
                    reason="TENANT_LIMIT",
                )
            if self._waiting >= limits.total:
                self.counters["refused_full"] += 1
                raise Refused("the compile queue is full; nothing was compiled", retry_after_ms=self._retry_ms())
            self._tickets += 1
            ticket = self._tickets
            queue.append(ticket)
            self._waiting += 1
            try:
                while not self._my_turn(tenant, ticket):
                    remaining = wait_until - self._clock()
                    if remaining <= 0 or self._closed:
                        self.counters["refused_waited"] += 1
                        raise Refused(
                            "the compile could not start in time; nothing was compiled", retry_after_ms=self._retry_ms()
                        )
                    self._cond.wait(remaining)
            except BaseException:
                self._forget(tenant, ticket)
                raise
            self._forget(tenant, ticket)
            self._turns += 1
            self._served[tenant] = self._turns  # it had its turn: behind every tenant waiting since
            if len(self._served) > _SERVED_KEPT:
                for old in sorted(self._served, key=self._served.__getitem__)[: len(self._served) // 2]:
                    del self._served[old]  # forgotten tenants count as never served: first in line
            self._running += 1
            self.counters["compiled"] += 1
            return ticket

    def _my_turn(self, tenant: str, ticket: int) -> bool:
        if self._running >= self._limits.concurrency or self._queues[tenant][0] != ticket:
            return False
        # The waiting tenant served least recently; among equals, the one waiting longest.
        served = self._served.get
        first = min(self._queues, key=lambda t: (served(t, 0), self._queues[t][0]))
        return first == tenant

    def _forget(self, tenant: str, ticket: int) -> None:
        queue = self._queues.get(tenant)
        if queue is not None and ticket in queue:
            queue.remove(ticket)
            self._waiting -= 1
            if not queue:
                del self._queues[tenant]
        self._cond.notify_all()

    def _leave(self, elapsed_s: float) -> None:
        with self._cond:
            self._running -= 1
            self._recent_s.append(elapsed_s)
            self._cond.notify_all()


def gate_for(pool: Any, limits: CompileLimits = CompileLimits()) -> CompileGate:
    """A gate compiling in confined workers of ``pool`` (a ``sandbox.supervisor.pool.Pool``)."""
    return CompileGate(ConfinedCompiler(pool), limits)
