"""Turn what a child said, or how it died, into one ``Result``.

Runs in the supervisor. Trusts: the PreparedCall (built by ``sandbox.supervisor.call``), the
kernel's exit status and usage figures. Trusts nothing in the child's reply: it is
parsed from capped JSON bytes and every value is validated (``sandbox.supervisor.normalize``)
before it reaches a Result.

State: the child reports what the tool changed (variables set, deleted, and their order
if it moved), not the whole state; the state after the call is the state this call sent,
which the supervisor holds, with those changes checked and applied
(``sandbox.plaindata.apply_changes``), and the whole of it is checked against the state's
cap here. So what the child sends, and what is done with it, grows with what the tool
changed, not with the size of the state.

State semantics on failure: a call commits all of its state changes or none. When the
status is not ``ok`` the result carries the input state unchanged and empty
``state_changes``, whether the tool raised, returned something invalid or was killed.
Logs written before a tool raised are kept; a killed child's logs are lost with it.

Secrets: every secret value passed to the call is redacted from logs, error messages
and tracebacks, whatever the tool did to smuggle it there verbatim.

Outbound HTTP: the supervisor's own record of the call's requests (``PreparedCall.egress``)
ends every result, whatever ended the call: one log line per request after the tool's
logs (kept even when a killed child's logs are lost), and the counts in ``usage``.
"""

from __future__ import annotations

import dataclasses
import json
import signal
from dataclasses import dataclass
from typing import Any, overload

from sandbox import plaindata, protocol
from sandbox.errors import InvalidReturn
from sandbox.result import ErrorInfo, Result, Status, Usage
from sandbox.supervisor.call import PreparedCall
from sandbox.supervisor.normalize import normalize_action, normalize_logs

REDACTED = "[REDACTED]"
# Shorter secrets are not redacted: replacing every "a" in a log would destroy it and
# protect nothing. Documented in the README.
MIN_REDACTED_LENGTH = 4

_ERROR_TEXT_CHARS = 64 * 1024  # the child caps its own texts far below this

# Exit codes of sandbox/child/entry.py.


@dataclass(frozen=True)
class Death:
    """How a child ended without a valid reply: the kernel's word, via the template."""

    signal: int | None  # terminating signal, or None for a normal exit
    exit_code: int | None
    cpu_ms: float
    peak_rss_bytes: int
    template_lost: bool = False  # killed because its template died: the platform's failure


class Redactor:
    def __init__(self, secrets: dict[str, str]):
        # Longest first, so a secret containing another is replaced whole.
        self._values = sorted({v for v in secrets.values() if len(v) >= MIN_REDACTED_LENGTH}, key=len, reverse=True)

    @overload
    def __call__(self, text: str) -> str: ...
    @overload
    def __call__(self, text: None) -> None: ...

    def __call__(self, text: str | None) -> str | None:
        if text is None or not self._values:
            return text
        for value in self._values:
            if value in text:
                text = text.replace(value, REDACTED)
        return text


def _logs(raw: Any, redact: Redactor) -> list[dict[str, str]]:
    """The child's log records, validated; a malformed list is dropped whole, not trusted."""
    try:
        records = normalize_logs(raw)
    except InvalidReturn:
        return [{"level": "error", "message": "toolpool: the tool's logs were malformed and dropped"}]
    return [{"level": r["level"], "message": redact(r["message"])} for r in records]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _usage(wall_ms: float, cpu_ms: float, peak_rss_bytes: int) -> Usage:
    return Usage(wall_ms=wall_ms, cpu_ms=max(cpu_ms, 0.0), peak_rss_bytes=max(int(peak_rss_bytes), 0))


def _with_egress(call: PreparedCall, logs: list[dict[str, str]], usage: Usage) -> tuple[list[dict[str, str]], Usage]:
    """Add the supervisor's record of the call's outbound HTTP (issue 8): its log lines
    (already redacted by sandbox/egress/fetch.py) after the tool's, and its usage counts."""
    record = call.egress
    if not record.requests:
        return logs, usage
    return logs + record.log_records(), dataclasses.replace(
        usage, http_requests=record.requests, http_bytes=record.response_bytes
    )


def failed(
    call: PreparedCall,
    status: Status,
    kind: str,
    message: str,
    usage: Usage,
    logs: list[dict[str, str]] | None = None,
    error: ErrorInfo | None = None,
) -> Result:
    """A failed call: input state unchanged, no action."""
    state = call.state_before
    logs, usage = _with_egress(call, logs or [], usage)
    return Result(
        status=status,
        state=state,
        logs=logs,
        error=error or ErrorInfo(kind=kind, message=message, file=call.tool.filename),
        usage=usage,
    )


def _int_or_none(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None


def _error_from_reply(raw: Any, call: PreparedCall, redact: Redactor) -> ErrorInfo:
    raw = raw if type(raw) is dict else {}

    def text(key: str) -> str | None:
        value = raw.get(key)
        if type(value) is not str:
            return None
        # A hostile child can send "\ud800" escapes: keep the text, but valid UTF-8.
        return redact(value.encode("utf-8", "backslashreplace").decode("utf-8")[:_ERROR_TEXT_CHARS])

    return ErrorInfo(
        kind=text("kind") or "Error",
        message=text("message") or "",
        file=call.tool.filename,
        line=_int_or_none(raw.get("line")),
        traceback=text("traceback"),
    )


_CHILD_STATUSES = {
    "runtime_error": Status.RUNTIME_ERROR,
    "invalid_return": Status.INVALID_RETURN,
    "memory_limit": Status.MEMORY_LIMIT,
    "output_limit": Status.OUTPUT_LIMIT,
    "not_found": Status.NOT_FOUND,
    "internal_error": Status.INTERNAL_ERROR,
}


def from_reply(call: PreparedCall, payload: bytes | bytearray, usage: Usage) -> Result:
    """Validate a child's reply and build the Result."""
    redact = Redactor(call.secrets)
    try:
        reply = json.loads(payload, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return failed(
            call, Status.INTERNAL_ERROR, "InternalError", "the child sent a reply that is not valid JSON", usage
        )
    if type(reply) is not dict:
        return failed(call, Status.INTERNAL_ERROR, "InternalError", "the child's reply is not an object", usage)
    logs = _logs(reply.get("logs"), redact)
    limits = call.request.policy.limits
    if reply.get("log_overflow") is True:
        return failed(
            call,
            Status.OUTPUT_LIMIT,
            "OutputLimit",
            f"the logs exceed {limits.log_bytes} bytes or {limits.log_records} records",
            usage,
            logs,
        )
    outcome = reply.get("outcome")
    if outcome == "failed":
        named = reply.get("status")
        # Any JSON can come here: a list or an object is unhashable, so look up strings only.
        status = _CHILD_STATUSES.get(named, Status.INTERNAL_ERROR) if type(named) is str else Status.INTERNAL_ERROR
        return failed(call, status, "", "", usage, logs, _error_from_reply(reply.get("error"), call, redact))
    if outcome != "returned":
        return failed(call, Status.INTERNAL_ERROR, "InternalError", "the child's reply has no outcome", usage, logs)
    return _from_return(call, reply, usage, logs, redact)


def _from_return(
    call: PreparedCall, reply: dict[str, Any], usage: Usage, logs: list[dict[str, str]], redact: Redactor
) -> Result:
    try:
        # The child sends what it changed; the state is the one this call sent it (trusted)
        # with those changes, checked where they lie (json.loads above made them).
        state_after, changes = plaindata.apply_changes(
            call.state_before, reply.get("state_set"), reply.get("state_deleted"), reply.get("state_order")
        )
    except plaindata.NotPlain as exc:
        return failed(call, Status.RUNTIME_ERROR, "StateValueError", redact(str(exc)) or "", usage, logs)
    # The cap is on the whole state, which only the supervisor holds (the child sees what
    # changed), checked before the action as the child checked it before: the same verdict.
    # Its JSON, measured here, stays with the Result for the wire: encoded once.
    state_json = plaindata.dumps(state_after)
    cap = call.request.policy.limits.state_bytes
    if (len(state_json) if state_json.isascii() else len(state_json.encode())) > cap:
        return failed(call, Status.OUTPUT_LIMIT, "OutputLimit", f"the state exceeds {cap} bytes", usage, logs)
    effects = reply.get("effects") if type(reply.get("effects")) is dict else {}
    try:
        action = normalize_action(reply.get("return"), effects, call.conv.get("variants") or {})
    except InvalidReturn as exc:
        error = exc.to_error_info()
        error = ErrorInfo(
            kind=error.kind, message=redact(error.message) or "", file=call.tool.filename, line=None, traceback=None
        )
        return failed(call, Status.INVALID_RETURN, "", "", usage, logs, error)
    logs, usage = _with_egress(call, logs, usage)
    return Result(
        status=Status.OK, action=action, state=state_after, state_changes=changes, logs=logs, error=None, usage=usage
    ).with_state_json(state_json)


def from_death(
    call: PreparedCall, death: Death, wall_ms: float, deadline_hit: bool, output_overrun: bool = False
) -> Result:
    """A child that ended without a valid reply: name the limit that ended it."""
    limits = call.request.policy.limits
    usage = _usage(wall_ms, death.cpu_ms, death.peak_rss_bytes)
    sig = death.signal
    if death.template_lost:
        return failed(
            call,
            Status.INTERNAL_ERROR,
            "InternalError",
            "the sandbox's template process died and took the call's process with it",
            usage,
        )
    if output_overrun:
        return failed(
            call, Status.OUTPUT_LIMIT, "OutputLimit", f"the reply exceeded {limits.reply_bytes()} bytes", usage
        )
    # The caller's deadline is the contract: a child that died after it timed out, even
    # when its CPU limit fired at the same moment.
    if deadline_hit or sig == signal.SIGALRM or call.deadline.expired():
        return failed(
            call,
            Status.TIMEOUT,
            "Timeout",
            f"the tool did not finish within its deadline of {call.deadline.budget_ms} ms",
            usage,
        )
    if sig in (signal.SIGPROF, signal.SIGXCPU) or (sig == signal.SIGKILL and death.cpu_ms >= limits.cpu_seconds * 1000):
        return failed(
            call, Status.CPU_LIMIT, "CpuLimit", f"the tool used more than {limits.cpu_seconds} s of CPU", usage
        )
    if death.exit_code == protocol.EXIT_MEMORY or (
        sig is not None and death.peak_rss_bytes >= limits.memory_bytes * 0.9
    ):
        return failed(
            call,
            Status.MEMORY_LIMIT,
            "MemoryLimit",
            f"the tool exceeded its memory limit of {limits.memory_bytes} bytes",
            usage,
        )
    if sig == signal.SIGXFSZ:
        return failed(
            call,
            Status.OUTPUT_LIMIT,
            "OutputLimit",
            f"the tool wrote a file larger than {limits.file_size_bytes} bytes",
            usage,
        )
    if sig is not None:
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return failed(
            call,
            Status.RUNTIME_ERROR,
            "Crash",
            f"the tool's process was killed by {name} (a crash, e.g. a C-level stack overflow)",
            usage,
        )
    return failed(
        call,
        Status.INTERNAL_ERROR,
        "InternalError",
        f"the tool's process exited with code {death.exit_code} without replying",
        usage,
    )
