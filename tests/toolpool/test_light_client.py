"""``import toolpool``: the public API, light. A fresh interpreter that uses the client
loads grpc and the generated stubs, and none of the sandbox, the service, the store,
RestrictedPython, sqlite3 or psycopg; ``worker.client`` still hands out the same objects."""

from __future__ import annotations

import json
import subprocess
import sys

import grpc
import pytest

FORBIDDEN = (
    "sandbox",
    "RestrictedPython",
    "sqlite3",
    "_sqlite3",
    "psycopg",
    "psycopg_pool",
    "worker.store",
    "worker.service",
    "worker.translate",
    "worker.config",
    "toolpool.testing",
    "opentelemetry",
)

PROBE = """
import json, sys
import toolpool
from toolpool import AsyncClient, CallError, Client, CompileFailed, Result, Status
client = Client("127.0.0.1:1", "token")
client.close()
print(json.dumps(sorted(sys.modules)))
"""


def loaded_after(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.system  # a fresh interpreter
def test_the_client_loads_nothing_of_the_sandbox_the_service_or_the_store():
    modules = loaded_after(PROBE)
    assert "grpc" in modules and "worker._proto.toolpool.v1.toolpool_pb2_grpc" in modules
    offending = [
        m
        for m in modules
        if m.split(".")[0] in FORBIDDEN or m in FORBIDDEN or any(m.startswith(f + ".") for f in FORBIDDEN)
    ]
    assert offending == []
    assert [m for m in modules if m.startswith("worker")] == [
        "worker",
        "worker._proto",
        "worker._proto.toolpool",
        "worker._proto.toolpool.v1",
        "worker._proto.toolpool.v1.toolpool_pb2",
        "worker._proto.toolpool.v1.toolpool_pb2_grpc",
    ]


@pytest.mark.system  # a fresh interpreter
def test_bare_import_toolpool_loads_not_even_grpc():
    assert "grpc" not in loaded_after(
        "import json, sys, toolpool, toolpool.tool; print(json.dumps(sorted(sys.modules)))"
    )


def test_worker_client_keeps_its_names_as_the_same_objects():
    import toolpool
    from worker import client

    assert client.ToolpoolClient is toolpool.Client
    assert client.AsyncToolpoolClient is toolpool.AsyncClient
    assert client.ToolpoolCallError is toolpool.CallError
    assert client.CompileFailed is toolpool.CompileFailed
    assert client.replicas_target is toolpool.replicas_target
    assert client.replicas_target(["10.0.0.1:50051", "10.0.0.2:50051"]) == "ipv4:10.0.0.1:50051,10.0.0.2:50051"


def test_trace_context_goes_out_only_when_the_caller_has_one():
    from opentelemetry import context, trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    from toolpool._trace import outgoing_trace_metadata

    assert outgoing_trace_metadata() == ()  # no current span
    span = NonRecordingSpan(
        SpanContext(
            trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736,
            span_id=0x00F067AA0BA902B7,
            is_remote=False,
            trace_flags=TraceFlags(1),
        )
    )
    token = context.attach(trace.set_span_in_context(span))
    try:
        assert (
            dict(outgoing_trace_metadata())["traceparent"] == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        )
    finally:
        context.detach(token)


def test_a_call_error_knows_when_nothing_was_reached():
    from toolpool import CallError

    unreachable = CallError(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses; last error: ...")
    assert unreachable.never_sent
    assert not CallError(grpc.StatusCode.UNAVAILABLE, "Socket closed").never_sent
    assert not CallError(
        grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses", reason="DRAINING"
    ).never_sent
