"""The client's half of the wire: proto messages to and from the public types.

``worker/translate.py`` is the one boundary between the wire and the service's domain;
the directions a client needs (a wire Result to ``toolpool.Result``, files and egress
policies to proto, the reason and retry hint of a failed RPC) live here instead, so that
a client loads neither the service nor the sandbox. ``worker/translate.py`` re-exports
the ones the service shares (egress policies, the metadata keys), so each conversion is
written once.

Trusts the server only as far as the proto's types: JSON fields are parsed as sent, and
a status this client does not know reads as ``internal_error``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import grpc

from toolpool.result import ErrorInfo, Result, Status, Usage
from worker._proto.toolpool.v1 import toolpool_pb2 as pb

REASON_KEY = "toolpool-reason"
RETRY_AFTER_KEY = "retry-after-ms"
EGRESS_LIMITS = ("max_requests", "max_response_bytes", "max_request_bytes", "max_redirects")


def result_from_proto(message: pb.Result) -> Result:
    """The wire Result as ``toolpool.Result`` (what ``toolpool run`` prints)."""
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
        usage=Usage(
            wall_ms=message.usage.wall_ms,
            cpu_ms=message.usage.cpu_ms,
            peak_rss_bytes=message.usage.peak_rss_bytes,
            http_requests=message.usage.http_requests,
            http_bytes=message.usage.http_bytes,
        ),
    )


def files_to_proto(files: Mapping[str, str]) -> list[pb.SourceFile]:
    return [pb.SourceFile(name=name, source=source) for name, source in sorted(files.items())]


def egress_policy_from_proto(message: pb.EgressPolicy) -> dict[str, Any]:
    """The wire EgressPolicy as the plain data of ``EgressPolicy.to_dict()``: empty
    ports are None, empty schemes None (https), unset caps left out (the defaults),
    an empty ca_pem None. Checked by the service, not here."""
    data: dict[str, Any] = {
        "hosts": [
            {"pattern": rule.pattern, "ports": list(rule.ports) or None, "schemes": list(rule.schemes) or None}
            for rule in message.hosts
        ],
        "addresses": [{"network": rule.network, "ports": list(rule.ports) or None} for rule in message.addresses],
        "ca_pem": message.ca_pem or None,
    }
    for name in EGRESS_LIMITS:
        if message.HasField(name):
            data[name] = getattr(message, name)
    return data


def egress_policy_to_proto(data: Mapping[str, Any]) -> pb.EgressPolicy:
    """Plain data (``EgressPolicy.to_dict()``, or a subset of its fields) as the wire
    EgressPolicy. Raises ValueError naming an unknown field; values are checked by the
    server."""
    unknown = sorted(set(data) - {"hosts", "addresses", "ca_pem", *EGRESS_LIMITS})
    if unknown:
        raise ValueError(f"egress policy: unknown fields {unknown}")
    message = pb.EgressPolicy(ca_pem=data.get("ca_pem") or "")
    for index, rule in enumerate(data.get("hosts") or ()):
        extra = sorted(set(rule) - {"pattern", "ports", "schemes"})
        if extra:
            raise ValueError(f"egress policy: hosts[{index}]: unknown fields {extra}")
        message.hosts.add(
            pattern=rule.get("pattern") or "", ports=rule.get("ports") or (), schemes=rule.get("schemes") or ()
        )
    for index, rule in enumerate(data.get("addresses") or ()):
        extra = sorted(set(rule) - {"network", "ports"})
        if extra:
            raise ValueError(f"egress policy: addresses[{index}]: unknown fields {extra}")
        message.addresses.add(network=rule.get("network") or "", ports=rule.get("ports") or ())
    for name in EGRESS_LIMITS:
        if data.get(name) is not None:
            setattr(message, name, data[name])
    return message


def _metadata_value(metadata: Iterable[tuple[str, Any]] | None, key: str) -> str | None:
    for k, v in metadata or ():
        if k == key:
            return v.decode() if isinstance(v, bytes) else v
    return None


def _trailing(error: grpc.RpcError) -> Sequence[tuple[str, Any]] | None:
    trailing = getattr(error, "trailing_metadata", None)
    return trailing() if callable(trailing) else None


def error_reason(error: grpc.RpcError) -> str | None:
    """The toolpool-reason of a failed call, if the server sent one."""
    return _metadata_value(_trailing(error), REASON_KEY)


def retry_after_ms(error: grpc.RpcError) -> int | None:
    value = _metadata_value(_trailing(error), RETRY_AFTER_KEY)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
