"""The caller's OpenTelemetry context, sent along with each RPC as W3C trace-context metadata.

A client must not pay for OpenTelemetry when its caller does not use it: importing the
API costs about as much as a third of ``import grpc``. A span can be current only if the
caller's process has imported ``opentelemetry.context`` already, so when it is not in
``sys.modules`` there is nothing to send and nothing is imported. Otherwise the W3C
propagator (the reference implementation of the spec) writes ``traceparent`` and
``tracestate``, exactly as the server reads them (``worker/observability.py``).

Trusts the caller's OpenTelemetry context as the caller's own business; the server
validates what it receives.
"""

from __future__ import annotations

import functools
import sys
from typing import Any


@functools.cache
def _propagator() -> Any:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator()


def outgoing_trace_metadata() -> tuple[tuple[str, str], ...]:
    """``traceparent``/``tracestate`` for the caller's current span; empty when there is none."""
    if "opentelemetry.context" not in sys.modules:
        return ()
    carrier: dict[str, str] = {}
    _propagator().inject(carrier)
    return tuple(carrier.items())
