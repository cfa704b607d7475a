"""The one boundary between the wire and the domain.

* proto request  -> domain values      (``deploy_request``, ``execute_call``, ...): JSON
  fields are parsed here, and a malformed one raises ``InvalidArgument`` naming the
  request field ("conversation_json.state: ...");
* domain values  -> proto responses    (``deploy_response``, ``result_to_proto``, ...);
* exceptions     -> RPC status          (``rpc_status``), the table below.

The client's directions (a wire Result to ``toolpool.Result``, the reason and retry hint
of a failed RPC, files and egress policies to proto) live in ``toolpool/_wire.py``, so a
client loads neither the service nor the sandbox; the ones the service shares are
imported from there, so each conversion is written once.

Status table (see also the top of proto/toolpool/v1/toolpool.proto)::

    worker.errors.InvalidArgument      INVALID_ARGUMENT    reason INVALID_FIELD | UPLOAD_LIMIT + BadRequest
    sandbox.errors.InvalidInput        INVALID_ARGUMENT    reason INVALID_FIELD + BadRequest
    worker.errors.NotFound             NOT_FOUND           VERSION_/ALIAS_/FUNCTION_NOT_FOUND
    worker.errors.Refused              RESOURCE_EXHAUSTED  OVERLOADED | TENANT_LIMIT + retry-after-ms, RetryInfo
    worker.errors.DeadlineTooShort     DEADLINE_EXCEEDED   DEADLINE_TOO_SHORT
    worker.errors.Unauthenticated      UNAUTHENTICATED     UNAUTHENTICATED_CLIENT
    worker.errors.PermissionDenied     PERMISSION_DENIED   TENANT_NOT_ALLOWED | OPERATOR_ONLY
    worker.errors.Unavailable          UNAVAILABLE         DRAINING
    sandbox.errors.PoolUnavailable     UNAVAILABLE         POOL_UNAVAILABLE
    sandbox.errors.ConfinementUnavailable UNAVAILABLE      POOL_UNAVAILABLE
    anything else                      INTERNAL            INTERNAL_FAILURE (message: incident id only)

A tool's failure (``sandbox.errors.ToolFailure``) is never in this table: it is a Result.

Every error carries the reason twice, set together here so they cannot disagree: as
``toolpool-reason`` (and ``retry-after-ms``) trailing metadata, readable by any client
from the .proto alone, and as the standard rich status (``grpc-status-details-bin``).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2

from sandbox.deadline import Deadline
from sandbox.errors import ConfinementUnavailable, InvalidInput, PoolUnavailable
from sandbox.result import Result
from sandbox.supervisor.call import validate_input
from toolpool._wire import REASON_KEY as REASON_KEY  # an explicit re-export: worker/servicer.py reads it from here
from toolpool._wire import RETRY_AFTER_KEY, egress_policy_from_proto, egress_policy_to_proto
from worker._proto.toolpool.v1 import toolpool_pb2 as pb
from worker.errors import (
    DeadlineTooShort,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Refused,
    ServiceError,
    Unauthenticated,
    Unavailable,
)
from worker.service import DeployOutcome, ExecuteCall, Executed, Target
from worker.store import StoredEgressPolicy, StoredVersion

DOMAIN = "toolpool.v1"
STATUS_DETAILS_KEY = "grpc-status-details-bin"

# -- requests -------------------------------------------------------------------------


def deploy_request(request: pb.DeployRequest) -> tuple[str, dict[str, str], str | None]:
    files: dict[str, str] = {}
    for index, source_file in enumerate(request.files):
        if source_file.name in files:
            raise InvalidArgument(f"files[{index}].name", f"duplicate file name {source_file.name!r}")
        files[source_file.name] = source_file.source
    return request.tenant, files, request.alias or None


def target(request: pb.ExecuteRequest | pb.GetVersionRequest) -> Target:
    which = request.WhichOneof("target")
    if which == "version_id":
        return Target(version_id=request.version_id)
    if which == "alias":
        return Target(alias=request.alias)
    raise InvalidArgument("target", "give version_id or alias")


def execute_call(request: pb.ExecuteRequest, *, call_id: str, deadline: Deadline) -> ExecuteCall:
    """The request as a domain call, with args and conversation parsed and checked, and
    the call id and deadline the servicer fixed as the request arrived."""
    args = parse_json(request.args_json, "args_json", default={})
    conversation = parse_json(request.conversation_json, "conversation_json", default={})
    if not isinstance(conversation, dict):
        raise InvalidArgument("conversation_json", f"must be a JSON object, got {type(conversation).__name__}")
    if "secrets" in conversation:
        raise InvalidArgument("conversation_json.secrets", "secrets are set with SetSecret, never per call")
    try:
        # Checked here, once, before admission, so that a bad field costs no slot; the
        # CallInput travels as it is to the child (sandbox.supervisor.call).
        call_input = validate_input(conversation, args, owned=True)  # parse_json's: ours alone
    except InvalidInput as exc:
        raise invalid_argument(exc) from None
    return ExecuteCall(
        tenant=request.tenant,
        target=target(request),
        function=request.function,
        input=call_input,
        deadline=deadline,
        call_id=call_id,
    )


def egress_policy_request(request: pb.SetEgressPolicyRequest) -> dict[str, Any] | None:
    """The policy to store, or None (unset: no egress)."""
    return egress_policy_from_proto(request.policy) if request.HasField("policy") else None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str, field: str, *, default: Any) -> Any:
    """JSON text to plain values; ints stay ints. Raises InvalidArgument naming the field."""
    if not text.strip():
        return default
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise InvalidArgument(field, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise InvalidArgument(field, "JSON nested too deeply") from None
    except ValueError as exc:  # NaN/Infinity, or an integer too long to convert
        raise InvalidArgument(field, f"not valid JSON: {exc}") from None


_FIELD_PREFIXES = (("conv", "conversation_json"), ("args", "args_json"))


def invalid_argument(exc: InvalidInput) -> InvalidArgument:
    """The sandbox's InvalidInput, with its field renamed to the request field."""
    field = exc.field
    for domain_name, wire_name in _FIELD_PREFIXES:
        if field == domain_name or field.startswith(domain_name + ".") or field.startswith(domain_name + "["):
            field = wire_name + field[len(domain_name) :]
            break
    return InvalidArgument(field, exc.message)


# -- responses ------------------------------------------------------------------------


def deploy_response(outcome: DeployOutcome) -> pb.DeployResponse:
    if outcome.errors:
        return pb.DeployResponse(
            compile_errors=pb.CompileErrors(
                errors=[pb.CompileError(file=e.file, line=max(0, e.line), message=e.message) for e in outcome.errors]
            )
        )
    return pb.DeployResponse(
        deployed=pb.Deployed(version_id=outcome.version_id, functions=outcome.functions, created=outcome.created)
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def result_to_proto(result: Result) -> pb.Result:
    message = pb.Result(
        status=cast(pb.Status, pb.Status.Value(result.status.name)),  # Value gives the enum's number as an int
        action_json=_dumps(result.action),
        state_json=result.state_json,  # encoded once, when the supervisor measured the state
        state_changes_json=_dumps(result.state_changes),
        logs=[pb.LogRecord(level=r["level"], message=r["message"]) for r in result.logs],
        usage=pb.Usage(
            wall_ms=result.usage.wall_ms,
            cpu_ms=result.usage.cpu_ms,
            peak_rss_bytes=max(0, result.usage.peak_rss_bytes),
            http_requests=max(0, result.usage.http_requests),
            http_bytes=max(0, result.usage.http_bytes),
        ),
    )
    if result.error is not None:
        error = result.error
        message.error.CopyFrom(
            pb.ToolError(
                kind=error.kind,
                message=error.message,
                file=error.file or "",
                line=max(0, error.line or 0),
                traceback=error.traceback or "",
            )
        )
    return message


def execute_response(executed: Executed) -> pb.ExecuteResponse:
    return pb.ExecuteResponse(
        result=result_to_proto(executed.result), version_id=executed.version_id, call_id=executed.call_id
    )


_PolicyResponse = TypeVar("_PolicyResponse", pb.SetEgressPolicyResponse, pb.GetEgressPolicyResponse)


def egress_policy_response(stored: StoredEgressPolicy | None, kind: type[_PolicyResponse]) -> _PolicyResponse:
    """A Set- or GetEgressPolicyResponse: the stored policy (unset: no egress) and its time."""
    response = kind(updated_unix_ms=stored.updated_ms if stored is not None else 0)
    if stored is not None and stored.policy is not None:
        response.policy.CopyFrom(egress_policy_to_proto(stored.policy))
    return response


def version_info(stored: StoredVersion) -> pb.VersionInfo:
    return pb.VersionInfo(
        version_id=stored.version_id,
        functions=stored.functions,
        file_names=sorted(stored.files),
        aliases=stored.aliases,
        created_unix_ms=stored.created_ms,
    )


def get_version_response(stored: StoredVersion, include_sources: bool) -> pb.GetVersionResponse:
    response = pb.GetVersionResponse(version=version_info(stored))
    if include_sources:
        response.files.extend(pb.SourceFile(name=n, source=s) for n, s in sorted(stored.files.items()))
    return response


# -- errors -> RPC status ----------------------------------------------------------------


@dataclass(frozen=True)
class RpcStatus(grpc.Status):
    """A grpc.Status (code, details, trailing_metadata) for context.abort_with_status."""

    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, str | bytes], ...]


_CODES: tuple[tuple[type[BaseException], grpc.StatusCode, str], ...] = (
    (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD"),
    (InvalidInput, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD"),
    (NotFound, grpc.StatusCode.NOT_FOUND, "VERSION_NOT_FOUND"),
    (Refused, grpc.StatusCode.RESOURCE_EXHAUSTED, "OVERLOADED"),
    (DeadlineTooShort, grpc.StatusCode.DEADLINE_EXCEEDED, "DEADLINE_TOO_SHORT"),
    (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED_CLIENT"),
    (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED, "TENANT_NOT_ALLOWED"),
    (Unavailable, grpc.StatusCode.UNAVAILABLE, "DRAINING"),
    (PoolUnavailable, grpc.StatusCode.UNAVAILABLE, "POOL_UNAVAILABLE"),
    (ConfinementUnavailable, grpc.StatusCode.UNAVAILABLE, "POOL_UNAVAILABLE"),
)


def rpc_status(exc: BaseException) -> tuple[RpcStatus, str | None]:
    """The RPC status for an exception, and an incident id when it is a bug (INTERNAL).

    Messages of unexpected exceptions never reach the caller (they might hold anything);
    the incident id ties the caller's report to the server's log line.
    """
    if isinstance(exc, InvalidInput):
        exc = invalid_argument(exc)
    for kind, code, default_reason in _CODES:
        if isinstance(exc, kind):
            reason = exc.reason if isinstance(exc, ServiceError) else default_reason
            return _status(code, str(exc), reason, exc), None
    incident = uuid.uuid4().hex[:12]
    message = f"internal error (incident {incident}); the call may or may not have run"
    return _status(grpc.StatusCode.INTERNAL, message, "INTERNAL_FAILURE", exc), incident


def _status(code: grpc.StatusCode, message: str, reason: str, exc: BaseException) -> RpcStatus:
    metadata: list[tuple[str, str | bytes]] = [(REASON_KEY, reason)]
    details: list[Message] = [error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN)]
    if isinstance(exc, Refused):
        metadata.append((RETRY_AFTER_KEY, str(exc.retry_after_ms)))
        delay = duration_pb2.Duration()
        delay.FromMilliseconds(exc.retry_after_ms)
        details.append(error_details_pb2.RetryInfo(retry_delay=delay))
    if isinstance(exc, InvalidArgument):
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=exc.field, description=exc.description)
                ]
            )
        )
    rich = status_pb2.Status(code=getattr(code_pb2, code.name), message=message)
    for detail in details:
        packed = any_pb2.Any()
        packed.Pack(detail)
        rich.details.append(packed)
    metadata.append((STATUS_DETAILS_KEY, rich.SerializeToString()))
    return RpcStatus(code=code, details=message, trailing_metadata=tuple(metadata))
