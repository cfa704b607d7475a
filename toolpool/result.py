"""What one call gives back, as the public API hands it out: ``Result`` and its parts.

    status         one of ``Status``
    action         {content, utterance, handoff, hangup, listen, variant, voice}, absent keys left out
    state          the full state after the call (the input state when the call failed)
    state_changes  {set: {...}, deleted: [...]}
    logs           [{level, message}]
    error          {kind, message, file, line, traceback} or null
    usage          {wall_ms, cpu_ms, peak_rss_bytes, http_requests, http_bytes}

The JSON form (``Result.to_dict``) is the contract shared by the library, the CLI and the
wire. This is the same model as ``sandbox/result.py``, the supervisor's, kept apart so
that ``import toolpool`` loads nothing from the sandbox; ``tests/toolpool/test_result.py``
holds the two to the same fields, statuses and JSON.

Plain data only; it trusts nothing and checks nothing: a client builds it from the
server's answer, ``toolpool.testing`` from the supervisor's verdict, both already
validated by the supervisor.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any


class Status(str, enum.Enum):
    """How a call ended. ``Status.OK == "ok"``: compare with the strings if you like."""

    OK = "ok"
    COMPILE_ERROR = "compile_error"
    RUNTIME_ERROR = "runtime_error"
    INVALID_RETURN = "invalid_return"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    CPU_LIMIT = "cpu_limit"
    OUTPUT_LIMIT = "output_limit"
    NOT_FOUND = "not_found"
    INTERNAL_ERROR = "internal_error"


@dataclass(frozen=True)
class ErrorInfo:
    """Why a call failed. ``traceback`` holds only the tool's own frames."""

    kind: str
    message: str
    file: str | None = None
    line: int | None = None
    traceback: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "traceback": self.traceback,
        }


@dataclass(frozen=True)
class Usage:
    """What the call used, measured by the kernel and the supervisor, not reported by the tool."""

    wall_ms: float = 0.0
    cpu_ms: float = 0.0
    peak_rss_bytes: int = 0
    http_requests: int = 0
    http_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "wall_ms": round(self.wall_ms, 3),
            "cpu_ms": round(self.cpu_ms, 3),
            "peak_rss_bytes": int(self.peak_rss_bytes),
            "http_requests": int(self.http_requests),
            "http_bytes": int(self.http_bytes),
        }


@dataclass(frozen=True)
class Result:
    """One call's outcome. A failed tool is a Result with a status, never an exception."""

    status: Status
    action: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    state_changes: dict[str, Any] = field(default_factory=lambda: {"set": {}, "deleted": []})
    logs: list[dict[str, str]] = field(default_factory=list)
    error: ErrorInfo | None = None
    usage: Usage = field(default_factory=Usage)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "action": self.action,
            "state": self.state,
            "state_changes": self.state_changes,
            "logs": self.logs,
            "error": self.error.to_dict() if self.error else None,
            "usage": self.usage.to_dict(),
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        """The inverse of ``to_dict`` (usage figures as rounded there)."""
        error = data.get("error")
        return cls(
            status=Status(data["status"]),
            action=dict(data.get("action") or {}),
            state=dict(data.get("state") or {}),
            state_changes=dict(data.get("state_changes") or {"set": {}, "deleted": []}),
            logs=list(data.get("logs") or []),
            error=ErrorInfo(**error) if error else None,
            usage=Usage(**(data.get("usage") or {})),
        )
