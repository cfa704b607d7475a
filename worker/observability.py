"""Structured logs for the service: one JSON object per line, with call ids and trace context.

What a log line carries (``JsonFormatter``)::

    {"ts": "2026-01-02T03:04:05.678Z", "level": "info", "logger": "toolpool.service",
     "msg": "call finished", "method": "Execute", "call_id": "c-42", "tenant": "acme",
     "trace_id": "4bf9...4736", "span_id": "00f0...02b7", "trace_sampled": true,
     "status": "ok", "queue_ms": 0.4, "run_ms": 3.1, ...}

* **Per-RPC context.** The servicer opens ``rpc_scope`` for every RPC; every record
  logged in that thread until it ends (the service's, the pool's) gets the method, the
  call id, the tenant (once authorized) and the caller's trace context, without each
  log call passing them. ``ContextFilter`` stamps them on the record at emit time.
* **Trace context.** Read from the gRPC metadata ``traceparent`` / ``tracestate`` (W3C
  Trace Context) with opentelemetry-api's ``TraceContextTextMapPropagator``, the
  reference implementation of the spec's parsing rules (version ``ff`` and all-zero ids
  refused, upper-case hex refused, future versions' extra fields ignored, the 32-member
  ``tracestate`` limit and key grammar). The extracted context is also made the current
  OpenTelemetry context for the RPC, so an operator who installs the OpenTelemetry SDK
  gets server spans parented to the caller's span with no change here. Without the SDK
  nothing is exported: the ids only join our log lines to the caller's trace.
  ``span_id`` is the caller's span (the one that exists in the trace backend).
* **What is never logged.** Secrets, tokens and conversation state are never passed to
  a logger by this service (``tests/deploy/test_observability.py`` plants a secret and a
  state canary and scans every line a server wrote, at DEBUG). As a second line, every
  string in a record is capped (``MAX_FIELD_CHARS``): a bug that logged a whole request
  could still not write a full conversation state.

Trust: metadata values are the caller's and unchecked until parsed here; anything that
does not parse is dropped, never logged raw.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

MAX_FIELD_CHARS = 2048  # any one string field; a conversation state is far bigger
MAX_EXCEPTION_CHARS = 8192
_PROPAGATOR = TraceContextTextMapPropagator()

# LogRecord's own attributes; anything else on a record came from ``extra=``.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_CONTEXT_FIELDS = ("method", "call_id", "tenant", "trace_id", "span_id", "trace_sampled", "tracestate")


@dataclass(frozen=True)
class TraceContext:
    """The caller's W3C trace context, validated. ``trace_id``/``span_id`` are lower-case hex."""

    trace_id: str
    span_id: str
    sampled: bool
    tracestate: str = ""


@dataclass(frozen=True)
class RpcContext:
    method: str
    call_id: str | None = None
    tenant: str | None = None
    trace: TraceContext | None = None

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method}
        if self.call_id:
            out["call_id"] = self.call_id
        if self.tenant:
            out["tenant"] = self.tenant
        if self.trace is not None:
            out["trace_id"] = self.trace.trace_id
            out["span_id"] = self.trace.span_id
            out["trace_sampled"] = self.trace.sampled
            if self.trace.tracestate:
                out["tracestate"] = self.trace.tracestate
        return out


_CURRENT: contextvars.ContextVar[RpcContext | None] = contextvars.ContextVar("toolpool_rpc", default=None)


_Metadata = tuple[tuple[str, Any], ...]


class _MetadataGetter(Getter[_Metadata]):
    """opentelemetry Getter over gRPC invocation metadata (keys arrive lower-cased)."""

    def get(self, carrier: _Metadata, key: str) -> list[str] | None:
        values = [_text(v) for k, v in carrier if k == key]
        return values or None

    def keys(self, carrier: _Metadata) -> list[str]:
        return [k for k, _ in carrier]


_GETTER = _MetadataGetter()


def _text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def extract_otel_context(metadata: Sequence[tuple[str, Any]] | None) -> otel_context.Context:
    """The OpenTelemetry context the caller sent (empty when it sent none, or garbage)."""
    return _PROPAGATOR.extract(tuple(metadata or ()), getter=_GETTER)


def outgoing_trace_metadata() -> tuple[tuple[str, str], ...]:
    """``traceparent``/``tracestate`` for the caller's current OpenTelemetry span, if any.

    For clients: with no OpenTelemetry span active (or no SDK) this is empty.
    """
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return tuple(carrier.items())


def trace_context(ctx: otel_context.Context) -> TraceContext | None:
    span_context = otel_trace.get_current_span(ctx).get_span_context()
    if not span_context.is_valid:
        return None
    return TraceContext(
        trace_id=format(span_context.trace_id, "032x"),
        span_id=format(span_context.span_id, "016x"),
        sampled=span_context.trace_flags.sampled,
        tracestate=span_context.trace_state.to_header()[:MAX_FIELD_CHARS],
    )


@contextlib.contextmanager
def rpc_scope(method: str, metadata: Sequence[tuple[str, Any]] | None) -> Iterator[None]:
    """Log context (and current OpenTelemetry context) for one RPC, in this thread.

    Server threads are reused across RPCs, so the scope always resets what it set.
    """
    ctx = extract_otel_context(metadata)
    token = _CURRENT.set(RpcContext(method=method, trace=trace_context(ctx)))
    otel_token = otel_context.attach(ctx)
    try:
        yield
    finally:
        otel_context.detach(otel_token)
        _CURRENT.reset(token)


def annotate(*, call_id: str | None = None, tenant: str | None = None) -> None:
    """Adds the call id and/or the (authorized) tenant to the current RPC's log context."""
    current = _CURRENT.get()
    if current is None:
        return
    _CURRENT.set(
        replace(
            current,
            call_id=call_id[:128] if call_id else current.call_id,
            tenant=tenant[:128] if tenant else current.tenant,
        )
    )


def current() -> RpcContext | None:
    return _CURRENT.get()


class ContextFilter(logging.Filter):
    """Stamps the current RPC's context on each record (runs in the emitting thread)."""

    def filter(self, record: logging.LogRecord) -> bool:
        rpc = _CURRENT.get()
        if rpc is not None:
            for key, value in rpc.fields().items():
                if not hasattr(record, key):
                    setattr(record, key, value)
        return True


def _cap(value: Any, limit: int = MAX_FIELD_CHARS) -> Any:
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + f"...[{len(value) - limit} more chars]"
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    return _cap(str(value), limit)


class JsonFormatter(logging.Formatter):
    """One JSON object per record; context and ``extra=`` fields become keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.datetime.fromtimestamp(record.created, datetime.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": _cap(record.getMessage()),
        }
        for key in _CONTEXT_FIELDS:
            if hasattr(record, key):
                entry[key] = _cap(getattr(record, key))
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and key not in entry and not key.startswith("_"):
                entry[key] = _cap(value)
        if record.exc_info:
            entry["exception"] = _cap(self.formatException(record.exc_info), MAX_EXCEPTION_CHARS)
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str)


class TextFormatter(logging.Formatter):
    """The human format, with the RPC context appended in brackets."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = _cap(super().format(record), MAX_EXCEPTION_CHARS)
        context = " ".join(f"{k}={getattr(record, k)}" for k in ("call_id", "tenant", "trace_id") if hasattr(record, k))
        return f"{text} [{context}]" if context else text


def resolve_format(log_format: str, stream: Any = None) -> str:
    """``auto``: text on a terminal, JSON otherwise (a container, a file, a pipe)."""
    if log_format != "auto":
        return log_format
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return "text" if callable(isatty) and isatty() else "json"


def configure_logging(log_format: str, level: str, stream: Any = None) -> str:
    """Points the root logger at one handler on ``stream`` (stderr) in the chosen format.

    For the process that serves (``serve_forever``); an embedded ToolpoolServer leaves
    the host application's logging alone. Returns the resolved format.
    """
    stream = sys.stderr if stream is None else stream
    resolved = resolve_format(log_format, stream)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if resolved == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return resolved
