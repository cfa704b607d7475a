"""What a failed call raises, and whether the client may try it again.

``CallError`` carries the gRPC code, the server's reason and whether an Execute may have
run; ``retry_delay`` decides a retry: only what did not start is retried (a pick that
reached no replica, a server's explicit "did not start", an overload with its hint),
never what may have run. ``toolpool/client.py``'s module docstring says why.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

import grpc

from toolpool import _wire
from worker._proto.toolpool.v1 import toolpool_pb2 as pb

MAX_ATTEMPTS = 5
_NOT_STARTED_UNAVAILABLE = frozenset({"DRAINING", "POOL_UNAVAILABLE"})
STORAGE_UNAVAILABLE = "STORAGE_UNAVAILABLE"  # refused before running; never retried
# gRPC's load-balancing policies fail a pick with these texts when no replica is
# connected; such an RPC was never written to any connection (see the module docstring).
_PICK_FAILURES = ("connections to all backends failing", "failed to connect to all addresses")


class CallError(Exception):
    """An RPC failed. ``reason`` is the server's toolpool-reason (None if it sent none)."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        *,
        reason: str | None = None,
        retry_after_ms: int | None = None,
        may_have_run: bool = False,
    ):
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.reason = reason
        self.retry_after_ms = retry_after_ms
        self.may_have_run = may_have_run

    @property
    def never_sent(self) -> bool:
        """gRPC reached no replica at all (see ``never_sent_error``): nothing listens at the target."""
        return never_sent_error(self)


class CompileFailed(Exception):
    """Deploy refused the bundle; ``errors`` lists (file, line, message). Nothing was stored."""

    def __init__(self, errors: Sequence[pb.CompileError]):
        self.errors = [(e.file, e.line, e.message) for e in errors]
        super().__init__("; ".join(f"{f}:{line}: {m}" for f, line, m in self.errors))


def call_error(error: grpc.RpcError, *, may_have_run: bool) -> CallError:
    code = error.code() if callable(getattr(error, "code", None)) else grpc.StatusCode.UNKNOWN
    details = error.details() if callable(getattr(error, "details", None)) else str(error)
    return CallError(
        code,
        details or "",
        reason=_wire.error_reason(error),
        retry_after_ms=_wire.retry_after_ms(error),
        may_have_run=may_have_run,
    )


class Budget:
    """The whole call's deadline, on the monotonic clock."""

    def __init__(self, timeout_s: float):
        self.deadline = time.monotonic() + timeout_s

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


def retry_delay(error: CallError, attempt: int, *, idempotent: bool) -> float | None:
    """Seconds to wait before trying again, or None when a retry is not safe or useful.

    A call gRPC never sent (no replica connected: all restarting, or the channel still in
    its reconnect back-off) is tried again until the call's own budget runs out, not
    ``MAX_ATTEMPTS`` times: nothing ran, and a replica that comes back within the budget
    can still answer it."""
    backoff: float = min(1.0, 0.05 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
    if never_sent_error(error):
        return backoff
    if attempt >= MAX_ATTEMPTS:
        return None
    if error.code is grpc.StatusCode.RESOURCE_EXHAUSTED and error.reason in ("OVERLOADED", "TENANT_LIMIT"):
        hint = (error.retry_after_ms or 0) / 1000
        return max(hint, 0.0) * (1 + random.random() / 4) or backoff
    if error.code is grpc.StatusCode.UNAVAILABLE and error.reason == STORAGE_UNAVAILABLE:
        return None
    if error.code is grpc.StatusCode.UNAVAILABLE and (
        idempotent or error.reason in _NOT_STARTED_UNAVAILABLE or never_sent_error(error)
    ):
        return backoff
    return None


def never_sent_error(error: CallError) -> bool:
    """gRPC failed the pick: no replica was connected, the request was never written."""
    return (
        error.code is grpc.StatusCode.UNAVAILABLE and error.reason is None and error.message.startswith(_PICK_FAILURES)
    )


def may_have_run(error: CallError) -> bool:
    """Whether a failed Execute may have run the tool: only a server's explicit 'did not start' says no."""
    if error.code in (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
    ):
        return False
    if error.code is grpc.StatusCode.UNAVAILABLE and (
        error.reason in _NOT_STARTED_UNAVAILABLE or error.reason == STORAGE_UNAVAILABLE or never_sent_error(error)
    ):
        return False
    return not (error.code is grpc.StatusCode.DEADLINE_EXCEEDED and error.reason == "DEADLINE_TOO_SHORT")
