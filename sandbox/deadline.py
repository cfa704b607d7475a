"""A call's deadline: one value, made once, read wherever the call must end.

A ``Deadline`` is an instant on the ``time.monotonic()`` clock, with the budget in
milliseconds it was made from (for messages: "did not finish within its deadline of
200 ms", and for the reserve outbound HTTP keeps for the tool's answer).

It is made once, where the call's time is decided. The service makes it as a request
arrives (``worker.service.ToolService.deadline``: the request's ``deadline_ms``, the tool
kind's cap, and the caller's own gRPC deadline less a margin). A library caller makes
it with ``sandbox.supervisor.call.requested_deadline`` (or leaves it to the pool, which
then gives the tool kind's default). The same value then travels unchanged through
admission, the pool and the call (``sandbox.supervisor.call.prepare`` holds it to the
tool kind's cap with ``within``, which leaves a deadline inside the cap as it is), and
everything that must end with the call reads it: the wait for a child, the supervisor's
wait for the reply (a SIGKILL when it passes), the waits of outbound HTTP.

The child is another process, with no share in this value: what crosses to it is the
time remaining, computed once from the deadline at the moment its frame is sent
(``sandbox.supervisor.call.PreparedCall.frame``), and the child arms its own timer with
that (``sandbox/child/entry.py``).

Shared by the service and the supervisor; imports neither, and no grpc.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    """When a call must have ended: ``at`` on the ``time.monotonic()`` clock.
    ``budget_ms`` is the length it was made with, for reports only; nothing measures
    time with it."""

    at: float
    budget_ms: int

    @classmethod
    def after(cls, ms: float, *, now: float | None = None) -> Deadline:
        """The deadline ``ms`` milliseconds after ``now`` (by default, now)."""
        start = time.monotonic() if now is None else now
        return cls(at=start + ms / 1000.0, budget_ms=int(ms))

    def within(self, other: Deadline) -> Deadline:
        """The earlier of the two: this deadline held to ``other`` (a cap). This one
        itself when it is not later, so that a deadline inside its cap travels on unchanged."""
        return self if self.at <= other.at else other

    def remaining_s(self, now: float | None = None) -> float:
        """Seconds left until the deadline; negative once it has passed."""
        return self.at - (time.monotonic() if now is None else now)

    def remaining_ms(self, now: float | None = None) -> int:
        """Whole milliseconds left, rounded up and never below 0: what a process that
        arms its own timer with it is given, so that its timer never ends before the deadline."""
        return max(0, math.ceil(self.remaining_s(now) * 1000.0))

    def expired(self, now: float | None = None) -> bool:
        return self.remaining_s(now) <= 0
