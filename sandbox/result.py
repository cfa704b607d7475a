"""The result model shared by the library, the CLI and the wire.

One call gives one ``Result``. Its JSON form (``Result.to_dict``) is the contract:

    status         one of Status
    action         {content, utterance, handoff, hangup, listen, variant, voice}, absent keys left out
    state          the full state after the call (the input state when the call failed)
    state_changes  {set: {...}, deleted: [...]}
    logs           [{level, message}]
    error          {kind, message, file, line, traceback} or null
    usage          {wall_ms, cpu_ms, peak_rss_bytes, http_requests, http_bytes}

This module holds plain data only and trusts nothing: every value in a Result has
already been validated by the supervisor (see ``sandbox/supervisor/normalize.py``).
"""

from __future__ import annotations

import enum
import functools
import json
from dataclasses import dataclass, field
from typing import Any


class Status(str, enum.Enum):
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


ACTION_KEYS = ("content", "utterance", "handoff", "hangup", "listen", "variant", "voice")
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class ErrorInfo:
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
    wall_ms: float = 0.0
    cpu_ms: float = 0.0
    peak_rss_bytes: int = 0
    # Outbound HTTP (issue 8), counted by the supervisor: requests the tool made (each
    # redirect hop and each refused request included) and response bytes received.
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

    @functools.cached_property
    def state_json(self) -> str:
        """``state`` as compact JSON, the wire's form, encoded on first use and kept (the
        state must not change afterwards; nothing changes a Result's state)."""
        return json.dumps(self.state, ensure_ascii=False, separators=(",", ":"))

    def with_state_json(self, text: str) -> Result:
        """This Result, given ``state_json`` by a caller that has encoded the state already
        (the supervisor, measuring it against its cap), so that it is not encoded again."""
        self.__dict__["state_json"] = text  # where cached_property keeps its value
        return self

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
        err = data.get("error")
        return cls(
            status=Status(data["status"]),
            action=dict(data.get("action") or {}),
            state=dict(data.get("state") or {}),
            state_changes=dict(data.get("state_changes") or {"set": {}, "deleted": []}),
            logs=list(data.get("logs") or []),
            error=ErrorInfo(**err) if err else None,
            usage=Usage(**(data.get("usage") or {})),
        )
