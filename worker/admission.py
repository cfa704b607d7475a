"""Admission control: who may start a tool call now, who waits, who is refused at once.

The pool can run ``max_concurrent`` calls at a time. Admission decides the order in
which calls get those slots, so that:

* **Each tenant has a concurrency limit** (``tenant_concurrency``): one tenant can never
  hold every slot.
* **Scheduling is fair across tenants.** Waiting calls sit in per-tenant queues; when a
  slot frees it goes to the waiting tenant that runs the fewest calls right now, ties
  broken round robin, never by arrival order. A tenant that floods the queue waits
  behind itself, not in front of everyone else. Within a tenant, ``start_function``
  calls go first.
* **start_function is never starved.** ``reserved_for_start`` slots can only be used by
  ``start_function`` calls (the greeting a caller hears waits on them), so even when
  slow tools of every tenant fill the other slots a greeting starts at once.
* **Deadline-aware, bounded queue.** A call carries the time by which it must start
  (its deadline minus the least useful run time). If the queue is full, or the estimated
  wait (from a moving average of call durations and the calls ahead of it) would pass
  that time, the call is refused at once with ``Refused`` and a retry delay. A call that
  was queued but still has not started by its time is refused then, before the caller's
  deadline, never left to time out in the queue.
* **Draining.** ``close()`` refuses every waiting call with ``Unavailable(DRAINING)``
  (they did not start, so the client may retry elsewhere) and every new one; calls that
  hold slots run to completion.

Admission knows nothing about gRPC or the sandbox: it hands out ``Slot`` objects and
trusts its callers to release them (``with admission.admit(...):``). Thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from worker.errors import Refused, Unavailable

_EWMA_WEIGHT = 0.2  # weight of the newest call duration in the moving average
_RETRY_MIN_MS = 10
_RETRY_MAX_MS = 10_000
_RETRY_UNKNOWN_MS = 100  # before any call has finished there is no average to go by


@dataclass(frozen=True)
class AdmissionLimits:
    max_concurrent: int
    tenant_concurrency: int
    reserved_for_start: int = 0
    max_queue: int = 64
    tenant_max_queue: int = 16

    def __post_init__(self) -> None:
        if self.max_concurrent < 1 or self.tenant_concurrency < 1:
            raise ValueError("max_concurrent and tenant_concurrency must be at least 1")
        if not 0 <= self.reserved_for_start < self.max_concurrent:
            raise ValueError("reserved_for_start must leave at least one general slot")
        if self.max_queue < 0 or self.tenant_max_queue < 0:
            raise ValueError("queue bounds must not be negative")


@dataclass(eq=False)
class _Waiter:
    tenant: str
    is_start: bool
    start_by: float
    event: threading.Event = field(default_factory=threading.Event)
    slot: Slot | None = None
    refusal: Exception | None = None


@dataclass(eq=False)
class _Tenant:
    running: int = 0
    start_queue: deque[_Waiter] = field(default_factory=deque)
    other_queue: deque[_Waiter] = field(default_factory=deque)
    mean_ms: float | None = None

    def queued(self) -> int:
        return len(self.start_queue) + len(self.other_queue)


class Slot:
    """The right to run one call. Release it exactly once (use it as a context manager)."""

    def __init__(self, admission: Admission, tenant: str, is_start: bool, granted_at: float):
        self._admission = admission
        self.tenant = tenant
        self.is_start = is_start
        self.granted_at = granted_at
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._admission._release(self)

    def __enter__(self) -> Slot:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class Admission:
    def __init__(self, limits: AdmissionLimits, *, clock: Callable[[], float] = time.monotonic):
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._tenants: dict[str, _Tenant] = {}
        self._rotation: deque[str] = deque()  # tenants with calls waiting, in turn order
        self._running = 0
        self._running_other = 0  # calls that are not start_function
        self._queued = 0
        self._mean_ms: float | None = None
        self._closed = False
        self._counters = {
            "admitted_now": 0,
            "admitted_after_wait": 0,
            "refused_full": 0,
            "refused_estimate": 0,
            "refused_waited": 0,
            "refused_draining": 0,
        }

    # -- the caller's side --------------------------------------------------------------

    def admit(self, tenant: str, *, is_start: bool, start_by: float) -> Slot:
        """Blocks until the call may start, or raises Refused / Unavailable.

        ``start_by`` is a time on this admission's clock (time.monotonic by default): the
        call is refused rather than started later than that. Never blocks past it.
        """
        with self._lock:
            if self._closed:
                self._counters["refused_draining"] += 1
                raise Unavailable("server is draining; the call did not start", reason="DRAINING")
            state = self._tenants.setdefault(tenant, _Tenant())
            if self._can_start(state, is_start):
                self._counters["admitted_now"] += 1
                return self._take_slot(state, tenant, is_start)
            self._refuse_if_hopeless(state, tenant, is_start, start_by)
            waiter = _Waiter(tenant, is_start, start_by)
            (state.start_queue if is_start else state.other_queue).append(waiter)
            self._queued += 1
            if tenant not in self._rotation:
                self._rotation.append(tenant)

        waiter.event.wait(timeout=max(0.0, start_by - self._clock()))

        with self._lock:
            if waiter.slot is not None:
                self._counters["admitted_after_wait"] += 1
                return waiter.slot
            if waiter.refusal is not None:
                raise waiter.refusal
            self._remove_waiter(state, waiter)
            self._counters["refused_waited"] += 1
            retry_ms = self._estimate_wait_ms(state, is_start)
        raise Refused("the call could not start before its deadline; it did not run", retry_after_ms=retry_ms)

    def refuse_if_hopeless(self, tenant: str, *, is_start: bool, start_by: float) -> None:
        """Raises Refused (Unavailable when draining) if ``admit`` would refuse this call at
        once now, and does nothing else: the call still goes through ``admit``. For a
        caller with costly work to do before ``admit`` (parsing a large request), so that
        a call that cannot start costs none of it."""
        with self._lock:
            if self._closed:
                self._counters["refused_draining"] += 1
                raise Unavailable("server is draining; the call did not start", reason="DRAINING")
            state = self._tenants.get(tenant) or _Tenant()  # a tenant not seen is not recorded
            if not self._can_start(state, is_start):
                self._refuse_if_hopeless(state, tenant, is_start, start_by)

    def close(self) -> None:
        """Refuses every waiting call and every new one (draining). Running calls go on."""
        with self._lock:
            self._closed = True
            for state in self._tenants.values():
                for queue in (state.start_queue, state.other_queue):
                    while queue:
                        waiter = queue.popleft()
                        waiter.refusal = Unavailable("server is draining; the call did not start", reason="DRAINING")
                        waiter.event.set()
            self._queued = 0
            self._rotation.clear()

    def wait_idle(self, timeout: float | None) -> bool:
        """Waits until no call holds a slot. True if idle, False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, timeout=timeout)

    def stats(self) -> dict[str, object]:
        with self._lock:
            return {
                "running": self._running,
                "queued": self._queued,
                "mean_call_ms": None if self._mean_ms is None else round(self._mean_ms, 3),
                "closed": self._closed,
                "tenants": {
                    name: {"running": s.running, "queued": s.queued()}
                    for name, s in self._tenants.items()
                    if s.running or s.queued()
                },
                **self._counters,
            }

    # -- internals (hold the lock) ---------------------------------------------------------

    def _can_start(self, state: _Tenant, is_start: bool) -> bool:
        limits = self.limits
        if self._running >= limits.max_concurrent or state.running >= limits.tenant_concurrency:
            return False
        # Other tools may not take the slots kept for start_function.
        return is_start or self._running_other < limits.max_concurrent - limits.reserved_for_start

    def _take_slot(self, state: _Tenant, tenant: str, is_start: bool) -> Slot:
        self._running += 1
        state.running += 1
        if not is_start:
            self._running_other += 1
        return Slot(self, tenant, is_start, self._clock())

    def _refuse_if_hopeless(self, state: _Tenant, tenant: str, is_start: bool, start_by: float) -> None:
        estimate = self._estimate_wait_ms(state, is_start)
        if self._queued >= self.limits.max_queue:
            self._counters["refused_full"] += 1
            raise Refused("admission queue is full; the call did not run", retry_after_ms=estimate)
        if state.queued() >= self.limits.tenant_max_queue:
            self._counters["refused_full"] += 1
            raise Refused(
                f"tenant {tenant!r} has too many calls waiting; the call did not run",
                retry_after_ms=estimate,
                reason="TENANT_LIMIT",
            )
        if self._mean_ms is not None and self._clock() + estimate / 1000 > start_by:
            self._counters["refused_estimate"] += 1
            raise Refused(
                f"the call would wait about {estimate} ms, past its deadline; it did not run", retry_after_ms=estimate
            )

    def _estimate_wait_ms(self, state: _Tenant, is_start: bool) -> int:
        """How long a new call of this tenant would wait for a slot, roughly.

        Slots free up at about max_concurrent / mean-duration per unit of time; with round
        robin, each call of this tenant ahead of ours lets one call of every other waiting
        tenant go too. The tenant's own limit gives a second bound. Clamped to sane values.
        """
        if self._mean_ms is None:
            return _RETRY_UNKNOWN_MS
        ahead_own = len(state.start_queue) + (0 if is_start else len(state.other_queue))
        rounds = ahead_own + 1
        competing = len(self._rotation) + (0 if state.queued() else 1)
        ahead_all = min(self._queued + 1, rounds * max(1, competing))
        global_wait = ahead_all * self._mean_ms / self.limits.max_concurrent
        tenant_wait = 0.0
        if state.running >= self.limits.tenant_concurrency:
            tenant_wait = rounds * (state.mean_ms or self._mean_ms) / self.limits.tenant_concurrency
        estimate = max(global_wait, tenant_wait)
        return int(min(_RETRY_MAX_MS, max(_RETRY_MIN_MS, estimate)))

    def _remove_waiter(self, state: _Tenant, waiter: _Waiter) -> None:
        queue = state.start_queue if waiter.is_start else state.other_queue
        try:
            queue.remove(waiter)
        except ValueError:
            return  # already taken out by close()
        self._queued -= 1
        if not state.queued() and waiter.tenant in self._rotation:
            self._rotation.remove(waiter.tenant)
        self._forget_if_idle(waiter.tenant, state)

    def _release(self, slot: Slot) -> None:
        duration_ms = (self._clock() - slot.granted_at) * 1000
        with self._lock:
            state = self._tenants[slot.tenant]
            self._running -= 1
            state.running -= 1
            if not slot.is_start:
                self._running_other -= 1
            self._mean_ms = _ewma(self._mean_ms, duration_ms)
            state.mean_ms = _ewma(state.mean_ms, duration_ms)
            self._dispatch()
            self._forget_if_idle(slot.tenant, state)
            if self._running == 0:
                self._idle.notify_all()

    def _dispatch(self) -> None:
        """Hands free slots to waiting calls: the tenant running the fewest calls first,
        ties broken by turn order (round robin), so a tenant that already holds many
        slots is served after one that holds none."""
        while True:
            chosen: str | None = None
            chosen_queue: deque[_Waiter] | None = None
            for tenant in self._rotation:
                state = self._tenants[tenant]
                startable = self._startable_queue(state)
                if startable is None:
                    continue
                if chosen is None or state.running < self._tenants[chosen].running:
                    chosen, chosen_queue = tenant, startable
            if chosen is None or chosen_queue is None:
                return
            state = self._tenants[chosen]
            waiter = chosen_queue.popleft()
            self._queued -= 1
            waiter.slot = self._take_slot(state, chosen, waiter.is_start)
            waiter.event.set()
            self._rotation.remove(chosen)
            if state.queued():
                self._rotation.append(chosen)

    def _startable_queue(self, state: _Tenant) -> deque[_Waiter] | None:
        """The tenant's queue whose head may start now: start_function calls first."""
        for queue, is_start in ((state.start_queue, True), (state.other_queue, False)):
            if queue and self._can_start(state, is_start):
                return queue
        return None

    def _forget_if_idle(self, tenant: str, state: _Tenant) -> None:
        # Keeps memory bounded by active tenants; the tenant's average goes with it.
        if not state.running and not state.queued():
            self._tenants.pop(tenant, None)


def _ewma(previous: float | None, sample: float) -> float:
    return sample if previous is None else (1 - _EWMA_WEIGHT) * previous + _EWMA_WEIGHT * sample
