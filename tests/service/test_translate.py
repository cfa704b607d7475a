"""worker/translate.py: marshaling round-trips (properties) and the error -> status table."""

from __future__ import annotations

import dataclasses
import json

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2, status_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.errors import ConfinementUnavailable, InvalidInput, PoolUnavailable
from sandbox.result import ErrorInfo, Result, Status, Usage
from toolpool._wire import result_from_proto
from worker import translate
from worker.client import ToolpoolCallError, _may_have_run, _retry_delay
from worker.errors import (
    DeadlineTooShort,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Refused,
    Unauthenticated,
    Unavailable,
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
errors = st.none() | st.builds(
    ErrorInfo,
    kind=st.text(min_size=1, max_size=10),
    message=st.text(max_size=30),
    file=st.none() | st.text(min_size=1, max_size=10),
    line=st.none() | st.integers(1, 10_000),
    traceback=st.none() | st.text(min_size=1, max_size=30),
)
results = st.builds(
    Result,
    status=st.sampled_from(Status),
    action=st.dictionaries(st.sampled_from(["content", "utterance", "hangup"]), json_values, max_size=3),
    state=st.dictionaries(st.text(max_size=8), json_values, max_size=5),
    state_changes=st.fixed_dictionaries(
        {
            "set": st.dictionaries(st.text(max_size=8), json_values, max_size=3),
            "deleted": st.lists(st.text(max_size=8), max_size=3),
        }
    ),
    logs=st.lists(
        st.fixed_dictionaries(
            {"level": st.sampled_from(["debug", "info", "warning", "error"]), "message": st.text(max_size=30)}
        ),
        max_size=3,
    ),
    error=errors,
    usage=st.builds(
        Usage,
        wall_ms=st.floats(0, 1e6),
        cpu_ms=st.floats(0, 1e6),
        peak_rss_bytes=st.integers(0, 2**40),
        http_requests=st.integers(0, 2**31),
        http_bytes=st.integers(0, 2**40),
    ),
)


@pytest.mark.system  # a property over many generated examples: seconds, too long for the unit pass
@settings(max_examples=300, deadline=None)
@given(results)
def test_result_survives_the_wire_exactly(result):
    message = translate.result_to_proto(result)
    back = result_from_proto(type(message).FromString(message.SerializeToString()))
    # The client's Result (toolpool.Result) holds the supervisor's exactly, field for field.
    assert dataclasses.asdict(back) == dataclasses.asdict(result)
    assert back.status.value == result.status.value
    # 1 == 1.0 in Python: compare the JSON text too, so ints stay ints and floats floats.
    assert json.dumps(back.to_dict(), sort_keys=True) == json.dumps(result.to_dict(), sort_keys=True)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_parse_json_raises_only_invalid_argument_naming_the_field(text):
    try:
        translate.parse_json(text, "args_json", default={})
    except InvalidArgument as exc:
        assert exc.field == "args_json" and str(exc).startswith("args_json: ")


@pytest.mark.parametrize("text", ["[" * 50_000, "1" * 5000, "NaN", "-Infinity", '{"a": NaN}'])
def test_parse_json_refuses_hostile_numbers_and_nesting(text):
    with pytest.raises(InvalidArgument):
        translate.parse_json(text, "conversation_json", default={})


def test_sandbox_fields_are_renamed_to_request_fields():
    assert str(translate.invalid_argument(InvalidInput("conv.state.x", "bad"))) == "conversation_json.state.x: bad"
    assert str(translate.invalid_argument(InvalidInput("args[0]", "bad"))) == "args_json[0]: bad"
    assert str(translate.invalid_argument(InvalidInput("conversation", "bad"))) == "conversation: bad"


TABLE = [
    (InvalidArgument("args_json", "bad"), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD"),
    (InvalidInput("conv.state", "bad"), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD"),
    (NotFound("x", reason="VERSION_NOT_FOUND"), grpc.StatusCode.NOT_FOUND, "VERSION_NOT_FOUND"),
    (NotFound("x", reason="FUNCTION_NOT_FOUND"), grpc.StatusCode.NOT_FOUND, "FUNCTION_NOT_FOUND"),
    (Refused("x", retry_after_ms=250), grpc.StatusCode.RESOURCE_EXHAUSTED, "OVERLOADED"),
    (Refused("x", retry_after_ms=5, reason="TENANT_LIMIT"), grpc.StatusCode.RESOURCE_EXHAUSTED, "TENANT_LIMIT"),
    (DeadlineTooShort("x"), grpc.StatusCode.DEADLINE_EXCEEDED, "DEADLINE_TOO_SHORT"),
    (Unauthenticated("x"), grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED_CLIENT"),
    (PermissionDenied("x"), grpc.StatusCode.PERMISSION_DENIED, "TENANT_NOT_ALLOWED"),
    (Unavailable("x"), grpc.StatusCode.UNAVAILABLE, "DRAINING"),
    (PoolUnavailable("x"), grpc.StatusCode.UNAVAILABLE, "POOL_UNAVAILABLE"),
    (ConfinementUnavailable("seccomp", "x"), grpc.StatusCode.UNAVAILABLE, "POOL_UNAVAILABLE"),
    (KeyError("internal detail"), grpc.StatusCode.INTERNAL, "INTERNAL_FAILURE"),
]


@pytest.mark.parametrize("exc, code, reason", TABLE, ids=[type(e).__name__ + "-" + r for e, _, r in TABLE])
def test_every_error_maps_to_one_code_with_the_same_reason_in_both_channels(exc, code, reason):
    status, incident = translate.rpc_status(exc)
    assert status.code is code
    metadata = dict(status.trailing_metadata)
    assert metadata["toolpool-reason"] == reason
    rich = status_pb2.Status.FromString(metadata["grpc-status-details-bin"])
    assert rich.code == getattr(code_pb2, code.name) and rich.message == status.details
    info = error_details_pb2.ErrorInfo()
    assert rich.details[0].Unpack(info) and info.reason == reason
    if isinstance(exc, Refused):
        retry = error_details_pb2.RetryInfo()
        assert rich.details[1].Unpack(retry)
        assert retry.retry_delay.ToMilliseconds() == int(metadata["retry-after-ms"]) == exc.retry_after_ms
    if code is grpc.StatusCode.INTERNAL:
        assert incident and incident in status.details and "internal detail" not in status.details
    else:
        assert incident is None


def error(code, reason=None, retry=None):
    return ToolpoolCallError(code, "x", reason=reason, retry_after_ms=retry)


@pytest.mark.parametrize(
    "err, idempotent, retried",
    [
        (error(grpc.StatusCode.RESOURCE_EXHAUSTED, "OVERLOADED", 200), False, True),
        (error(grpc.StatusCode.RESOURCE_EXHAUSTED), False, False),  # not ours: no promise it did not run
        (error(grpc.StatusCode.UNAVAILABLE, "DRAINING"), False, True),
        (error(grpc.StatusCode.UNAVAILABLE, "POOL_UNAVAILABLE"), False, True),
        (error(grpc.StatusCode.UNAVAILABLE), False, False),  # connection lost mid-call: may have run
        (error(grpc.StatusCode.UNAVAILABLE), True, True),
        (error(grpc.StatusCode.INTERNAL, "INTERNAL_FAILURE"), False, False),
        (error(grpc.StatusCode.DEADLINE_EXCEEDED), False, False),
        (error(grpc.StatusCode.NOT_FOUND, "VERSION_NOT_FOUND"), False, False),
    ],
)
def test_the_client_retries_only_what_did_not_run(err, idempotent, retried):
    delay = _retry_delay(err, 1, idempotent=idempotent)
    assert (delay is not None) is retried
    if err.retry_after_ms:
        assert delay >= err.retry_after_ms / 1000


def test_may_have_run_is_false_only_when_the_server_says_so():
    assert _may_have_run(error(grpc.StatusCode.UNAVAILABLE)) is True
    assert _may_have_run(error(grpc.StatusCode.INTERNAL)) is True
    assert _may_have_run(error(grpc.StatusCode.DEADLINE_EXCEEDED)) is True
    assert _may_have_run(error(grpc.StatusCode.DEADLINE_EXCEEDED, "DEADLINE_TOO_SHORT")) is False
    assert _may_have_run(error(grpc.StatusCode.UNAVAILABLE, "DRAINING")) is False
    assert _may_have_run(error(grpc.StatusCode.RESOURCE_EXHAUSTED, "OVERLOADED")) is False
