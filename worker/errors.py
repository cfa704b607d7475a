"""The service's own errors: the caller's mistakes and the service's state.

Everything the service raises on purpose derives from ``ServiceError``; each class
names the gRPC code it becomes, and ``worker/translate.py`` turns it (and the sandbox
library's ``InvalidInput``, ``PoolUnavailable`` and ``ConfinementUnavailable``) into an
RPC status in one place::

    ServiceError
    ├── InvalidArgument      INVALID_ARGUMENT    a request field is malformed; names it
    ├── NotFound             NOT_FOUND           version / alias / function unknown
    ├── Refused              RESOURCE_EXHAUSTED  admission refused; the call did not start
    ├── DeadlineTooShort     DEADLINE_EXCEEDED   no time left to run the call
    ├── Unauthenticated      UNAUTHENTICATED     no or unknown credentials
    ├── PermissionDenied     PERMISSION_DENIED   the client may not act for the tenant, or is no operator
    └── Unavailable          UNAVAILABLE         draining, the pool cannot run tools, or the store
                                                 cannot be reached (worker.store.StorageUnavailable)

A tool's own failure is never a ``ServiceError``: it is a ``sandbox.result.Result`` with
a status. ``reason`` is one of the ``toolpool.v1.ErrorReason`` names, as text, so this
module does not depend on the generated code.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of the service's errors. ``reason`` is machine-readable, ``message`` is for people."""

    reason = "ERROR_REASON_UNSPECIFIED"

    def __init__(self, message: str, *, reason: str | None = None):
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason


class InvalidArgument(ServiceError):
    """``field`` is the request field at fault, as a dotted path (``conversation_json.state``)."""

    reason = "INVALID_FIELD"

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.description = message


class NotFound(ServiceError):
    """Reasons: VERSION_NOT_FOUND and ALIAS_NOT_FOUND (the client re-sends the bundle),
    FUNCTION_NOT_FOUND (it does not)."""


class Refused(ServiceError):
    """Admission refused the call before it started; retrying after ``retry_after_ms`` is safe."""

    reason = "OVERLOADED"

    def __init__(self, message: str, *, retry_after_ms: int, reason: str | None = None):
        super().__init__(message, reason=reason)
        self.retry_after_ms = max(1, int(retry_after_ms))


class DeadlineTooShort(ServiceError):
    reason = "DEADLINE_TOO_SHORT"


class Unauthenticated(ServiceError):
    reason = "UNAUTHENTICATED_CLIENT"


class PermissionDenied(ServiceError):
    """Reasons: TENANT_NOT_ALLOWED, and OPERATOR_ONLY (an operator-only RPC)."""

    reason = "TENANT_NOT_ALLOWED"


class Unavailable(ServiceError):
    """Reasons: DRAINING (the call did not start), POOL_UNAVAILABLE, STORAGE_UNAVAILABLE."""

    reason = "DRAINING"
