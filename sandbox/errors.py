"""The one error tree of the sandbox library.

Everything the library raises derives from ``ToolpoolError`` (a library caller that
wants "anything the sandbox refused" catches that)::

    ToolpoolError
    ├── InvalidInput            the caller's mistake (conv.json, args, deadline, policy); names the field
    ├── ConfinementUnavailable  the host cannot confine a child; names the missing feature
    ├── PoolUnavailable         the pool is closed, not started, or cannot produce a child in time
    └── ToolFailure             the tool failed; becomes a Result with a status, never an RPC error
        ├── CompileFailure          compile_error (raised as ``sandbox.bundles.CompileErrors``)
        ├── InvalidReturn           invalid_return
        └── FunctionNotFound        not_found

Only the failures found in the supervisor before or after the child runs are raised:
the compiler's, a bundle without the function, a reply the platform cannot act on. How
a child ended (a timeout, a memory, CPU or output limit, a crash) is read from the
kernel's report and becomes a ``Result`` status directly (``sandbox.supervisor.verdict``),
never an exception. docs/architecture.md ("Errors") draws the tree with who raises each class and what a
caller sees on the wire.

``ToolFailure`` values are data: ``failure.to_error_info()`` gives the result's
``error`` object and ``failure.status`` its status. The service translates
``InvalidInput``, ``ConfinementUnavailable`` and ``PoolUnavailable`` to RPC codes in one
place (``worker/translate.py``); a ``ToolFailure`` always travels inside a result.
"""

from __future__ import annotations

from sandbox.result import ErrorInfo, Status


class ToolpoolError(Exception):
    """Base of every error the sandbox library raises."""


class InvalidInput(ToolpoolError):
    """The caller sent something malformed. ``field`` names where, as a dotted path."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ConfinementUnavailable(ToolpoolError):
    """The host lacks a kernel feature the confinement needs, or the self-test failed."""

    def __init__(self, feature: str, detail: str):
        super().__init__(f"confinement unavailable: {feature}: {detail}")
        self.feature = feature
        self.detail = detail


class PoolUnavailable(ToolpoolError):
    """The pool is closed or not started, or cannot produce a child in time."""


class ToolFailure(ToolpoolError):
    """A call failed because of the tool. Carried as a result, not raised past the pool."""

    status: Status = Status.INTERNAL_ERROR
    kind: str = "InternalError"

    def __init__(
        self,
        message: str,
        *,
        kind: str | None = None,
        file: str | None = None,
        line: int | None = None,
        traceback: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        if kind is not None:
            self.kind = kind
        self.file = file
        self.line = line
        self.traceback = traceback

    def to_error_info(self) -> ErrorInfo:
        return ErrorInfo(kind=self.kind, message=self.message, file=self.file, line=self.line, traceback=self.traceback)


class CompileFailure(ToolFailure):
    status = Status.COMPILE_ERROR
    kind = "CompileError"


class InvalidReturn(ToolFailure):
    """The tool returned something the platform cannot act on. ``field`` names it."""

    status = Status.INVALID_RETURN
    kind = "InvalidReturn"

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class FunctionNotFound(ToolFailure):
    status = Status.NOT_FOUND
    kind = "NotFound"
