"""The one boundary between the wire and the domain.

* proto request  -> domain values      (``deploy_request``, ``execute_call``, ...): JSON
  fields are parsed here, and a malformed one raises ``InvalidArgument`` naming the
  request field ("conversation_json.state: ...");
* domain values  -> proto responses    (``deploy_response``, ``result_to_proto``, ...);
* proto Result   -> ``sandbox.result.Result`` for the client (``result_from_proto``);
* exceptions     -> RPC status          (``rpc_status``), the table below, and back on the
  client side (``error_reason``, ``retry_after_ms``).

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
from typing import Any, Iterable, Mapping, Sequence

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from sandbox.errors import ConfinementUnavailable, InvalidInput, PoolUnavailable
from sandbox.normalize import validate_args, validate_conversation
from sandbox.result import ErrorInfo, Result, Status, Usage

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

REASON_KEY = "toolpool-reason"
RETRY_AFTER_KEY = "retry-after-ms"
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


def execute_call(request: pb.ExecuteRequest) -> ExecuteCall:
    """The request as a domain call, with args and conversation parsed and validated."""
    args = parse_json(request.args_json, "args_json", default={})
    conversation = parse_json(request.conversation_json, "conversation_json", default={})
    if not isinstance(conversation, dict):
        raise InvalidArgument("conversation_json", f"must be a JSON object, got {type(conversation).__name__}")
    if "secrets" in conversation:
        raise InvalidArgument("conversation_json.secrets", "secrets are set with SetSecret, never per call")
    try:
        validate_conversation(conversation)
        validate_args(args)
    except InvalidInput as exc:
        raise invalid_argument(exc) from None
    return ExecuteCall(
        tenant=request.tenant,
        target=target(request),
        function=request.function,
        args=args,
        conversation=conversation,
        deadline_ms=request.deadline_ms,
        call_id=request.call_id,
    )


_EGRESS_LIMITS = ("max_requests", "max_response_bytes", "max_request_bytes", "max_redirects")


def egress_policy_from_proto(message: pb.EgressPolicy) -> dict[str, Any]:
    """The wire EgressPolicy as the plain data of ``EgressPolicy.to_dict()``: empty
    ports are None, empty schemes None (https), unset caps left out (the defaults),
    an empty ca_pem None. Checked by the service, not here."""
    data: dict[str, Any] = {
        "hosts": [{"pattern": rule.pattern, "ports": list(rule.ports) or None, "schemes": list(rule.schemes) or None}
                  for rule in message.hosts],
        "addresses": [{"network": rule.network, "ports": list(rule.ports) or None} for rule in message.addresses],
        "ca_pem": message.ca_pem or None,
    }
    for name in _EGRESS_LIMITS:
        if message.HasField(name):
            data[name] = getattr(message, name)
    return data


def egress_policy_to_proto(data: Mapping[str, Any]) -> pb.EgressPolicy:
    """Plain data (``EgressPolicy.to_dict()``, or a subset of its fields) as the wire
    EgressPolicy. Raises ValueError naming an unknown field; values are checked by the
    server."""
    unknown = sorted(set(data) - {"hosts", "addresses", "ca_pem", *_EGRESS_LIMITS})
    if unknown:
        raise ValueError(f"egress policy: unknown fields {unknown}")
    message = pb.EgressPolicy(ca_pem=data.get("ca_pem") or "")
    for index, rule in enumerate(data.get("hosts") or ()):
        extra = sorted(set(rule) - {"pattern", "ports", "schemes"})
        if extra:
            raise ValueError(f"egress policy: hosts[{index}]: unknown fields {extra}")
        message.hosts.add(pattern=rule.get("pattern") or "", ports=rule.get("ports") or (),
                          schemes=rule.get("schemes") or ())
    for index, rule in enumerate(data.get("addresses") or ()):
        extra = sorted(set(rule) - {"network", "ports"})
        if extra:
            raise ValueError(f"egress policy: addresses[{index}]: unknown fields {extra}")
        message.addresses.add(network=rule.get("network") or "", ports=rule.get("ports") or ())
    for name in _EGRESS_LIMITS:
        if data.get(name) is not None:
            setattr(message, name, data[name])
    return message


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
            field = wire_name + field[len(domain_name):]
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
        status=pb.Status.Value(result.status.name),
        action_json=_dumps(result.action),
        state_json=_dumps(result.state),
        state_changes_json=_dumps(result.state_changes),
        logs=[pb.LogRecord(level=r["level"], message=r["message"]) for r in result.logs],
        usage=pb.Usage(
            wall_ms=result.usage.wall_ms, cpu_ms=result.usage.cpu_ms, peak_rss_bytes=max(0, result.usage.peak_rss_bytes),
            http_requests=max(0, result.usage.http_requests), http_bytes=max(0, result.usage.http_bytes),
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


def egress_policy_response(stored: StoredEgressPolicy | None,
                           kind: type[pb.SetEgressPolicyResponse] | type[pb.GetEgressPolicyResponse]) -> Any:
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


# -- the client's side ------------------------------------------------------------------


def result_from_proto(message: pb.Result) -> Result:
    """The wire Result as the runtime's Result (what ``toolpool run`` prints)."""
    status_name = pb.Status.Name(message.status)
    error = None
    if message.HasField("error"):
        e = message.error
        error = ErrorInfo(
            kind=e.kind, message=e.message, file=e.file or None, line=e.line or None, traceback=e.traceback or None
        )
    return Result(
        status=Status[status_name] if status_name in Status.__members__ else Status.INTERNAL_ERROR,
        action=json.loads(message.action_json or "{}"),
        state=json.loads(message.state_json or "{}"),
        state_changes=json.loads(message.state_changes_json or '{"set": {}, "deleted": []}'),
        logs=[{"level": r.level, "message": r.message} for r in message.logs],
        error=error,
        usage=Usage(wall_ms=message.usage.wall_ms, cpu_ms=message.usage.cpu_ms,
                    peak_rss_bytes=message.usage.peak_rss_bytes, http_requests=message.usage.http_requests,
                    http_bytes=message.usage.http_bytes),
    )


def files_to_proto(files: dict[str, str]) -> list[pb.SourceFile]:
    return [pb.SourceFile(name=name, source=source) for name, source in sorted(files.items())]


def _metadata_value(metadata: Iterable[tuple[str, Any]] | None, key: str) -> str | None:
    for k, v in metadata or ():
        if k == key:
            return v.decode() if isinstance(v, bytes) else v
    return None


def error_reason(error: grpc.RpcError) -> str | None:
    """The toolpool-reason of a failed call, if the server sent one."""
    return _metadata_value(_trailing(error), REASON_KEY)


def retry_after_ms(error: grpc.RpcError) -> int | None:
    value = _metadata_value(_trailing(error), RETRY_AFTER_KEY)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _trailing(error: grpc.RpcError) -> Sequence[tuple[str, Any]] | None:
    trailing = getattr(error, "trailing_metadata", None)
    return trailing() if callable(trailing) else None


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
    details = [error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN)]
    if isinstance(exc, Refused):
        metadata.append((RETRY_AFTER_KEY, str(exc.retry_after_ms)))
        delay = duration_pb2.Duration()
        delay.FromMilliseconds(exc.retry_after_ms)
        details.append(error_details_pb2.RetryInfo(retry_delay=delay))
    if isinstance(exc, InvalidArgument):
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[error_details_pb2.BadRequest.FieldViolation(field=exc.field, description=exc.description)]
            )
        )
    rich = status_pb2.Status(code=getattr(code_pb2, code.name), message=message)
    for detail in details:
        packed = any_pb2.Any()
        packed.Pack(detail)
        rich.details.append(packed)
    metadata.append((STATUS_DETAILS_KEY, rich.SerializeToString()))
    return RpcStatus(code=code, details=message, trailing_metadata=tuple(metadata))
