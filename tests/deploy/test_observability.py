"""Structured logs: JSON lines with call ids and the caller's trace context, never a
secret and never the conversation state."""

from __future__ import annotations

import io
import json
import logging

import grpc
import pytest

from tests.integration.harness import TOOLS, ServerProcess, auth, deploy, write_config
from worker import observability
from worker._proto.toolpool.v1 import toolpool_pb2 as pb
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc

SECRET = "planted-secret-9f8e7d6c5b4a"
CANARY = "state-canary-0a1b2c3d4e5f"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{SPAN_ID}-01"

LEAKY = (
    TOOLS
    + """

def leak(conv):
    value = conv.utils.get_secret("planted")
    log.warning("the secret is " + value + " and the state is " + str(conv.state.canary))
    print(value)
    conv.state.copy = value
    raise ValueError("leaking " + value + " " + str(conv.state.canary))


def echo(conv):
    conv.state.seen = conv.state.canary
    return "state: " + str(conv.state.canary)
"""
)


def request(version: str, function: str, conversation: str, call_id: str) -> pb.ExecuteRequest:
    return pb.ExecuteRequest(
        tenant="acme", version_id=version, function=function, conversation_json=conversation, call_id=call_id
    )


@pytest.mark.system  # a server subprocess
def test_logs_are_json_with_call_ids_and_trace_context_and_never_secrets_or_state(tmp_path):
    server = ServerProcess(write_config(tmp_path), "--log-level", "DEBUG", env={"TOOLPOOL_LOG_FORMAT": "json"})
    try:
        channel = grpc.insecure_channel(server.target)
        stub = pb_grpc.ToolPoolStub(channel)
        traced = (*auth(), ("traceparent", TRACEPARENT), ("tracestate", "vendor=opaque"))
        version = deploy(stub, "acme", {"leaky.py": LEAKY}).deployed.version_id
        stub.SetSecret(pb.SetSecretRequest(tenant="acme", name="planted", value=SECRET), metadata=auth())
        state = json.dumps({"state": {"canary": CANARY, "nested": {"deep": [CANARY] * 3}}})
        ok = stub.Execute(request(version, "echo", state, "call-ok-1"), metadata=traced, timeout=10)
        assert CANARY in ok.result.state_json  # the canary did travel through the server
        failed = stub.Execute(request(version, "leak", state, "call-leak-2"), metadata=traced, timeout=10)
        assert failed.result.status == pb.RUNTIME_ERROR
        # Refusals whose messages could echo input: a bad field beside the canary, a
        # malformed document holding it, a secret with an invalid name.
        for bad in (
            json.dumps({"state": {"canary": CANARY}, "caller_number": 5}),
            '{"state": {"canary": "' + CANARY + '", ',
            json.dumps({"state": {"canary": CANARY}, "secrets": {"planted": SECRET}}),
        ):
            with pytest.raises(grpc.RpcError):
                stub.Execute(request(version, "echo", bad, "call-bad"), metadata=traced, timeout=10)
        with pytest.raises(grpc.RpcError):
            stub.SetSecret(pb.SetSecretRequest(tenant="acme", name="bad name", value=SECRET), metadata=auth())
        # A generated call id is returned, and logged.
        generated = stub.Execute(request(version, "echo", state, ""), metadata=auth(), timeout=10)
        assert generated.call_id
        channel.close()
        server.terminate()
        assert server.wait(30) == 0
    finally:
        server.kill()

    text = server.stderr()
    assert SECRET not in text
    assert CANARY not in text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is JSON
    assert all({"ts", "level", "logger", "msg"} <= set(entry) for entry in lines)
    finished = {e["call_id"]: e for e in lines if e.get("event") == "call_finished"}
    assert set(finished) >= {"call-ok-1", "call-leak-2", generated.call_id}
    ok_line = finished["call-ok-1"]
    assert ok_line["trace_id"] == TRACE_ID and ok_line["span_id"] == SPAN_ID and ok_line["trace_sampled"] is True
    assert ok_line["tracestate"] == "vendor=opaque"
    assert ok_line["tenant"] == "acme" and ok_line["status"] == "ok" and ok_line["method"] == "Execute"
    assert finished["call-leak-2"]["status"] == "runtime_error"
    assert "trace_id" not in finished[generated.call_id]  # no traceparent sent, none invented
    started = [e for e in lines if e.get("event") == "call_started" and e.get("call_id") == "call-ok-1"]
    assert started and started[0]["trace_id"] == TRACE_ID  # the context reaches every line of the call
    refused = [e for e in lines if e.get("call_id") == "call-bad" and e["level"] == "debug"]
    assert len(refused) == 3 and all(e["trace_id"] == TRACE_ID for e in refused)


@pytest.mark.parametrize(
    "traceparent, valid",
    [
        (TRACEPARENT, True),
        (f"00-{TRACE_ID}-{SPAN_ID}-00", True),  # not sampled, still joined
        (f"01-{TRACE_ID}-{SPAN_ID}-01-future-field", True),  # a future version's extra fields are ignored
        (f"ff-{TRACE_ID}-{SPAN_ID}-01", False),  # version ff is invalid
        (f"00-{'0' * 32}-{SPAN_ID}-01", False),  # all-zero trace id
        (f"00-{TRACE_ID}-{'0' * 16}-01", False),  # all-zero span id
        (f"00-{TRACE_ID.upper()}-{SPAN_ID}-01", False),  # upper-case hex
        ("garbage", False),
        ("", False),
    ],
)
def test_traceparent_parsing_follows_the_w3c_rules(traceparent, valid):
    context = observability.trace_context(observability.extract_otel_context((("traceparent", traceparent),)))
    assert (context is not None) == valid
    if valid:
        assert (context.trace_id, context.span_id) == (TRACE_ID, SPAN_ID)
        assert context.sampled == traceparent.split("-")[3].startswith("01")


def capture(level=logging.DEBUG):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(observability.JsonFormatter())
    handler.addFilter(observability.ContextFilter())
    logger = logging.getLogger("toolpool.test-observability")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
    return logger, stream


def test_rpc_scope_stamps_every_line_and_is_reset_afterwards():
    logger, stream = capture()
    with observability.rpc_scope("Execute", (("traceparent", TRACEPARENT),)):
        observability.annotate(call_id="c-1", tenant="acme")
        logger.info("inside", extra={"status": "ok"})
    logger.info("outside")
    inside, outside = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert inside["call_id"] == "c-1" and inside["tenant"] == "acme" and inside["trace_id"] == TRACE_ID
    assert inside["status"] == "ok" and inside["method"] == "Execute"
    assert "call_id" not in outside and "trace_id" not in outside


def test_long_strings_are_capped_so_a_whole_state_can_never_be_written():
    logger, stream = capture()
    huge = "x" * 100_000
    logger.info("value %s", huge, extra={"blob": huge})
    entry = json.loads(stream.getvalue())
    assert len(entry["msg"]) < observability.MAX_FIELD_CHARS + 100
    assert len(entry["blob"]) < observability.MAX_FIELD_CHARS + 100


def test_auto_format_is_text_on_a_terminal_and_json_elsewhere():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert observability.resolve_format("auto", Tty()) == "text"
    assert observability.resolve_format("auto", io.StringIO()) == "json"
    assert observability.resolve_format("text", io.StringIO()) == "text"
