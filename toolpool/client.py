"""toolpool's Python client, sync (``toolpool.Client``) and asyncio (``toolpool.AsyncClient``).

    import toolpool

    with toolpool.Client("localhost:50051", token) as client:
        version = client.deploy("acme", {"tools.py": source}, alias="latest").version_id
        result = client.execute("acme", "start_function", version_id=version,
                                conversation={"state": {}}, timeout=2.0)
        print(result.status, result.action)

What it does for the caller:

* **Re-upload on a missing version.** A replica that lacks a version or alias answers
  NOT_FOUND with reason VERSION_NOT_FOUND or ALIAS_NOT_FOUND (replicas on PostgreSQL
  share one store and rarely do; replicas on their own SQLite files often do). The client
  remembers every bundle it deployed, by version and by alias (and accepts one per call
  with ``bundle=``), re-sends it with Deploy and calls again. The re-sent Deploy and the
  retried call may land on different replicas: with two replicas in strict round-robin
  order a single Deploy always lands on the replica that already has the bundle, and the
  call on the one that lacks it. So round ``n`` sends the Deploy ``n`` times in a row,
  which reaches ``n`` consecutive replicas, and this repeats (up to ``MAX_RESENDS``
  rounds, within the budget) until the call finds a replica that has it.
* **Retries only where safe.** Execute is *at most once*: it is retried only when the
  server says the call did not start: RESOURCE_EXHAUSTED (after the server's
  ``retry-after-ms``), UNAVAILABLE with reason DRAINING or POOL_UNAVAILABLE. Any other
  failure of an Execute (a connection that broke mid-call, INTERNAL, a deadline) may
  have run the tool, and is raised with ``may_have_run=True``; the caller decides.
  Deploy, GetVersion, ListVersions and the secret calls are idempotent and are also
  retried on any UNAVAILABLE, except STORAGE_UNAVAILABLE: the database is away, a retry
  within the caller's budget would not bring it back, and the caller should hear so
  within the server's bound (2 s) rather than after the client's retries.
* **Balancing across replicas.** Channels use gRPC's own ``round_robin`` policy with
  client-side health checking (``grpc.health.v1`` Watch on ``toolpool.v1.ToolPool``):
  give a target that resolves to every replica, e.g. the headless Service
  ``dns:///toolpool.NAMESPACE.svc.cluster.local:50051`` or a static list
  (``replicas_target(["10.0.0.1:50051", "10.0.0.2:50051"])`` ->
  ``ipv4:10.0.0.1:50051,10.0.0.2:50051``). A replica that begins draining (SIGTERM)
  reports NOT_SERVING and leaves the rotation before it refuses anything; a replica that
  died leaves it when its connection drops, and rejoins when it accepts again
  (reconnect back-off capped at 5 s). ``options`` given to a client override these
  defaults key by key (``default_channel_options()``).
* **Did the call start?** Execute is retried (on another replica, with round_robin)
  only when it certainly did not run:

  - the server said so: RESOURCE_EXHAUSTED (OVERLOADED, TENANT_LIMIT), UNAVAILABLE with
    reason DRAINING or POOL_UNAVAILABLE, NOT_FOUND VERSION_NOT_FOUND (after re-sending
    the bundle);
  - it never left this process: UNAVAILABLE with no server reason whose text is gRPC's
    load-balancer pick failure ("connections to all backends failing", "failed to connect
    to all addresses"): no replica was connected, so nothing was written to any socket.
    (A request written to a connection that the server had already closed, or refused
    with REFUSED_STREAM, is retried by gRPC itself, transparently, before we see it.)

  Anything else after the request went out, typically UNAVAILABLE "Socket closed" when
  the replica running it died, raises ``CallError`` with ``may_have_run=True``:
  the replica may have been running the tool or may not have started it yet, and
  nothing survives to say which; the caller decides (re-send only a tool that is safe
  to repeat). The Python API exposes no structured "was it sent" flag, so the pick
  failure is recognised by its text; an unrecognised text counts as may-have-run, the
  safe side.
* **Deadline propagation.** ``timeout`` is the whole budget, retries and re-uploads
  included; every attempt carries what is left of it as its gRPC deadline, and the
  server caps the tool's run time by that deadline minus a margin, so the verdict
  (``timeout``) arrives before the deadline does. With only ``deadline_ms`` given, the
  budget is deadline_ms plus ``reply_slack_s``.

Tracing: the caller's current OpenTelemetry context, if any, goes out as W3C
``traceparent``/``tracestate`` metadata; the server puts it in its log lines.

Egress policies: ``set_egress_policy(tenant, policy)`` (operator clients only; ``policy``
is ``EgressPolicy.to_dict()``'s plain data, or a subset of its fields, or an
``EgressPolicy``; None switches outbound HTTP off) and ``get_egress_policy(tenant)``
return the policy as the server stores it (every field filled in), or None.

Errors are ``CallError`` with the gRPC code, the server's reason and retry hint;
``CallError.never_sent`` tells "no replica could be reached" (nothing listens at the
target, or it is not a toolpool server) from a failure after the request went out.
A tool's failure is not an error: it is the returned ``Result``'s status.

What it loads and trusts: grpc, the generated stubs (``worker/_proto``, a package that
imports nothing else of the service) and ``toolpool``'s own modules; never the sandbox,
the service or its store (``tests/toolpool/test_light_client.py`` checks
``sys.modules``). It trusts the server's answers as far as their proto types.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import grpc

from toolpool import _wire
from toolpool._trace import outgoing_trace_metadata
from toolpool.result import Result
from worker._proto.toolpool.v1 import toolpool_pb2 as pb
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc

if TYPE_CHECKING:
    from sandbox.egress.policy import EgressPolicy

DEFAULT_TIMEOUT_S = 10.0
REPLY_SLACK_S = 1.0
MAX_ATTEMPTS = 5
# Re-sends of a bundle for one call. round_robin may send the re-sent bundle to one
# replica and the retried call to another that lacks it too; each Deploy adds the bundle
# to one more replica (content-addressed, idempotent), so a few rounds always converge.
MAX_RESENDS = 8
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ToolPool"].full_name
_NOT_STARTED_UNAVAILABLE = frozenset({"DRAINING", "POOL_UNAVAILABLE"})
STORAGE_UNAVAILABLE = "STORAGE_UNAVAILABLE"  # refused before running; never retried (see the module docstring)
_MISSING = frozenset({"VERSION_NOT_FOUND", "ALIAS_NOT_FOUND"})
# gRPC's load-balancing policies fail a pick with these texts when no replica is
# connected; such an RPC was never written to any connection (see the module docstring).
_PICK_FAILURES = ("connections to all backends failing", "failed to connect to all addresses")

SERVICE_CONFIG = {
    "loadBalancingConfig": [{"round_robin": {}}],
    # Subchannels whose replica reports NOT_SERVING (draining) are taken out of the rotation.
    "healthCheckConfig": {"serviceName": SERVICE_NAME},
}


def default_channel_options() -> list[tuple[str, Any]]:
    """Channel options for a fleet of replicas: round_robin, health checks, keepalive."""
    return [
        ("grpc.service_config", json.dumps(SERVICE_CONFIG)),
        # Notice a replica that vanished without closing its connections (a node lost).
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
        # A restarted replica is back within seconds; the default back-off grows to 120 s.
        ("grpc.initial_reconnect_backoff_ms", 250),
        ("grpc.min_reconnect_backoff_ms", 250),
        ("grpc.max_reconnect_backoff_ms", 5_000),
        # Re-resolve a headless Service's name soon after a replica goes away.
        ("grpc.dns_min_time_between_resolutions_ms", 5_000),
    ]


def channel_options(options: Sequence[tuple[str, Any]] = ()) -> list[tuple[str, Any]]:
    """The defaults with the caller's options taking precedence, key by key."""
    given = {key for key, _ in options}
    if "grpc.lb_policy_name" in given:  # the caller chose a policy: let it stand alone
        given.add("grpc.service_config")
    return [(k, v) for k, v in default_channel_options() if k not in given] + list(options)


def replicas_target(addresses: Sequence[str]) -> str:
    """A target naming several replicas, for round_robin: ``ipv4:a:p,b:p`` (or ``ipv6:``)."""
    if not addresses:
        raise ValueError("give at least one address")
    scheme = "ipv6" if all(a.startswith("[") for a in addresses) else "ipv4"
    return f"{scheme}:" + ",".join(addresses)


class CallError(Exception):
    """An RPC failed. ``reason`` is the server's toolpool-reason (None if it sent none)."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        *,
        reason: str | None = None,
        retry_after_ms: int | None = None,
        may_have_run: bool = False,
    ):
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.reason = reason
        self.retry_after_ms = retry_after_ms
        self.may_have_run = may_have_run

    @property
    def never_sent(self) -> bool:
        """gRPC reached no replica at all (see ``_never_sent``): nothing listens at the target."""
        return _never_sent(self)


class CompileFailed(Exception):
    """Deploy refused the bundle; ``errors`` lists (file, line, message). Nothing was stored."""

    def __init__(self, errors: Sequence[pb.CompileError]):
        self.errors = [(e.file, e.line, e.message) for e in errors]
        super().__init__("; ".join(f"{f}:{line}: {m}" for f, line, m in self.errors))


@dataclass(frozen=True)
class Deployment:
    version_id: str
    functions: tuple[str, ...]
    created: bool


@dataclass(frozen=True)
class Executed:
    result: Result
    version_id: str
    call_id: str


def _call_error(error: grpc.RpcError, *, may_have_run: bool) -> CallError:
    code = error.code() if callable(getattr(error, "code", None)) else grpc.StatusCode.UNKNOWN
    details = error.details() if callable(getattr(error, "details", None)) else str(error)
    return CallError(
        code,
        details or "",
        reason=_wire.error_reason(error),
        retry_after_ms=_wire.retry_after_ms(error),
        may_have_run=may_have_run,
    )


class _Budget:
    """The whole call's deadline, on the monotonic clock."""

    def __init__(self, timeout_s: float):
        self.deadline = time.monotonic() + timeout_s

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


def _retry_delay(error: CallError, attempt: int, *, idempotent: bool) -> float | None:
    """Seconds to wait before trying again, or None when a retry is not safe or useful.

    A call gRPC never sent (no replica connected: all restarting, or the channel still in
    its reconnect back-off) is tried again until the call's own budget runs out, not
    ``MAX_ATTEMPTS`` times: nothing ran, and a replica that comes back within the budget
    can still answer it."""
    backoff: float = min(1.0, 0.05 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
    if _never_sent(error):
        return backoff
    if attempt >= MAX_ATTEMPTS:
        return None
    if error.code is grpc.StatusCode.RESOURCE_EXHAUSTED and error.reason in ("OVERLOADED", "TENANT_LIMIT"):
        hint = (error.retry_after_ms or 0) / 1000
        return max(hint, 0.0) * (1 + random.random() / 4) or backoff
    if error.code is grpc.StatusCode.UNAVAILABLE and error.reason == STORAGE_UNAVAILABLE:
        return None
    if error.code is grpc.StatusCode.UNAVAILABLE and (
        idempotent or error.reason in _NOT_STARTED_UNAVAILABLE or _never_sent(error)
    ):
        return backoff
    return None


def _never_sent(error: CallError) -> bool:
    """gRPC failed the pick: no replica was connected, the request was never written."""
    return (
        error.code is grpc.StatusCode.UNAVAILABLE and error.reason is None and error.message.startswith(_PICK_FAILURES)
    )


class _Bundles:
    """Bundles this client deployed, by (tenant, version_id) and (tenant, alias)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_version: dict[tuple[str, str], dict[str, str]] = {}
        self._by_alias: dict[tuple[str, str], dict[str, str]] = {}

    def remember(self, tenant: str, version_id: str, files: Mapping[str, str], alias: str | None) -> None:
        with self._lock:
            self._by_version[(tenant, version_id)] = dict(files)
            if alias:
                self._by_alias[(tenant, alias)] = dict(files)

    def find(self, tenant: str, version_id: str | None, alias: str | None) -> dict[str, str] | None:
        with self._lock:
            if alias:
                return self._by_alias.get((tenant, alias))
            return self._by_version.get((tenant, version_id or ""))


def _execute_request(
    tenant: str,
    function: str,
    version_id: str | None,
    alias: str | None,
    args: Any,
    conversation: Mapping[str, Any] | None,
    deadline_ms: int | None,
    call_id: str | None,
) -> pb.ExecuteRequest:
    if (version_id is None) == (alias is None):
        raise ValueError("give exactly one of version_id and alias")
    request = pb.ExecuteRequest(
        tenant=tenant,
        function=function,
        args_json=json.dumps({} if args is None else args, ensure_ascii=False),
        conversation_json=json.dumps(dict(conversation or {}), ensure_ascii=False),
        deadline_ms=deadline_ms or 0,
        call_id=call_id or "",
    )
    if alias is not None:
        request.alias = alias
    else:
        request.version_id = cast(str, version_id)  # exactly one is given (checked above)
    return request


def _budget_for(timeout: float | None, deadline_ms: int | None, default: float) -> _Budget:
    if timeout is not None:
        return _Budget(timeout)
    if deadline_ms:
        return _Budget(deadline_ms / 1000 + REPLY_SLACK_S)
    return _Budget(default)


def _deploy_outcome(response: pb.DeployResponse) -> Deployment:
    if response.WhichOneof("outcome") == "compile_errors":
        raise CompileFailed(response.compile_errors.errors)
    d = response.deployed
    return Deployment(version_id=d.version_id, functions=tuple(d.functions), created=d.created)


def _egress_request(tenant: str, policy: Mapping[str, Any] | EgressPolicy | None) -> pb.SetEgressPolicyRequest:
    request = pb.SetEgressPolicyRequest(tenant=tenant)
    if policy is not None:
        data = policy if isinstance(policy, Mapping) else policy.to_dict()  # an EgressPolicy
        request.policy.CopyFrom(_wire.egress_policy_to_proto(data))
    return request


def _egress_policy(response: pb.SetEgressPolicyResponse | pb.GetEgressPolicyResponse) -> dict[str, Any] | None:
    return _wire.egress_policy_from_proto(response.policy) if response.HasField("policy") else None


def _executed(response: pb.ExecuteResponse) -> Executed:
    return Executed(
        result=_wire.result_from_proto(response.result), version_id=response.version_id, call_id=response.call_id
    )


class Client:
    """Blocking client. Thread-safe; share one per process and target."""

    def __init__(
        self,
        target: str,
        token: str,
        *,
        credentials: grpc.ChannelCredentials | None = None,
        options: Sequence[tuple[str, Any]] = (),
        default_timeout_s: float = DEFAULT_TIMEOUT_S,
    ):
        options = channel_options(options)
        self._channel = (
            grpc.secure_channel(target, credentials, options=options)
            if credentials
            else grpc.insecure_channel(target, options=options)
        )
        self._stub = pb_grpc.ToolPoolStub(self._channel)
        self._metadata = (("authorization", f"Bearer {token}"),)
        self._default_timeout = default_timeout_s
        self._bundles = _Bundles()

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _call(self, method: Callable[..., Any], request: Any, budget: _Budget, *, idempotent: bool) -> Any:
        attempt = 0
        while True:
            attempt += 1
            remaining = budget.remaining()
            if remaining <= 0:
                # Only attempts that did not start are ever retried, so nothing ran.
                raise CallError(grpc.StatusCode.DEADLINE_EXCEEDED, "client deadline passed before the call")
            try:
                return method(request, timeout=remaining, metadata=self._metadata + outgoing_trace_metadata())
            except grpc.RpcError as rpc_error:
                error = _call_error(rpc_error, may_have_run=not idempotent)
                delay = _retry_delay(error, attempt, idempotent=idempotent)
                if delay is None or delay >= budget.remaining():
                    if not idempotent:
                        error.may_have_run = _may_have_run(error)
                    raise error from None
                time.sleep(delay)

    def deploy(
        self, tenant: str, files: Mapping[str, str], *, alias: str | None = None, timeout: float | None = None
    ) -> Deployment:
        """Deploys the bundle; raises CompileFailed with per-file, per-line errors."""
        request = pb.DeployRequest(tenant=tenant, files=_wire.files_to_proto(dict(files)), alias=alias or "")
        response = self._call(self._stub.Deploy, request, _Budget(timeout or self._default_timeout), idempotent=True)
        deployment = _deploy_outcome(response)
        self._bundles.remember(tenant, deployment.version_id, files, alias)
        return deployment

    def execute(
        self,
        tenant: str,
        function: str,
        *,
        version_id: str | None = None,
        alias: str | None = None,
        args: Any = None,
        conversation: Mapping[str, Any] | None = None,
        deadline_ms: int | None = None,
        timeout: float | None = None,
        call_id: str | None = None,
        bundle: Mapping[str, str] | None = None,
    ) -> Result:
        """Runs one call and returns its Result (see ``execute_detailed`` for the version that ran)."""
        return self.execute_detailed(
            tenant,
            function,
            version_id=version_id,
            alias=alias,
            args=args,
            conversation=conversation,
            deadline_ms=deadline_ms,
            timeout=timeout,
            call_id=call_id,
            bundle=bundle,
        ).result

    def execute_detailed(
        self,
        tenant: str,
        function: str,
        *,
        version_id: str | None = None,
        alias: str | None = None,
        args: Any = None,
        conversation: Mapping[str, Any] | None = None,
        deadline_ms: int | None = None,
        timeout: float | None = None,
        call_id: str | None = None,
        bundle: Mapping[str, str] | None = None,
    ) -> Executed:
        request = _execute_request(tenant, function, version_id, alias, args, conversation, deadline_ms, call_id)
        budget = _budget_for(timeout, deadline_ms, self._default_timeout)
        for resent in range(MAX_RESENDS + 1):
            try:
                return _executed(self._call(self._stub.Execute, request, budget, idempotent=False))
            except CallError as error:
                files = bundle or self._bundles.find(tenant, version_id, alias)
                if error.reason not in _MISSING or files is None or resent == MAX_RESENDS:
                    raise
            for _ in range(resent + 1):  # round n reaches n replicas in a row (module docstring)
                self._redeploy(tenant, files, version_id, alias, budget)
        raise AssertionError("unreachable")

    def _redeploy(
        self, tenant: str, files: Mapping[str, str], version_id: str | None, alias: str | None, budget: _Budget
    ) -> None:
        request = pb.DeployRequest(tenant=tenant, files=_wire.files_to_proto(dict(files)), alias=alias or "")
        deployment = _deploy_outcome(self._call(self._stub.Deploy, request, budget, idempotent=True))
        _check_redeployed(deployment, version_id)
        self._bundles.remember(tenant, deployment.version_id, files, alias)

    def set_secret(self, tenant: str, name: str, value: str, *, timeout: float | None = None) -> bool:
        request = pb.SetSecretRequest(tenant=tenant, name=name, value=value)
        response: pb.SetSecretResponse = self._call(
            self._stub.SetSecret, request, _Budget(timeout or self._default_timeout), idempotent=True
        )
        return response.created

    def delete_secret(self, tenant: str, name: str, *, timeout: float | None = None) -> bool:
        request = pb.DeleteSecretRequest(tenant=tenant, name=name)
        response: pb.DeleteSecretResponse = self._call(
            self._stub.DeleteSecret, request, _Budget(timeout or self._default_timeout), idempotent=True
        )
        return response.deleted

    def list_secret_names(self, tenant: str, *, timeout: float | None = None) -> list[str]:
        request = pb.ListSecretNamesRequest(tenant=tenant)
        return list(
            self._call(
                self._stub.ListSecretNames, request, _Budget(timeout or self._default_timeout), idempotent=True
            ).names
        )

    def set_egress_policy(
        self, tenant: str, policy: Mapping[str, Any] | EgressPolicy | None, *, timeout: float | None = None
    ) -> dict[str, Any] | None:
        """Sets the tenant's egress policy (None: no outbound HTTP); operator clients only
        (else PERMISSION_DENIED, reason OPERATOR_ONLY). Returns the policy as stored."""
        request = _egress_request(tenant, policy)
        return _egress_policy(
            self._call(self._stub.SetEgressPolicy, request, _Budget(timeout or self._default_timeout), idempotent=True)
        )

    def get_egress_policy(self, tenant: str, *, timeout: float | None = None) -> dict[str, Any] | None:
        """The tenant's egress policy as stored, or None: no outbound HTTP."""
        request = pb.GetEgressPolicyRequest(tenant=tenant)
        return _egress_policy(
            self._call(self._stub.GetEgressPolicy, request, _Budget(timeout or self._default_timeout), idempotent=True)
        )

    def get_version(
        self,
        tenant: str,
        *,
        version_id: str | None = None,
        alias: str | None = None,
        include_sources: bool = False,
        timeout: float | None = None,
    ) -> pb.GetVersionResponse:
        request = pb.GetVersionRequest(tenant=tenant, include_sources=include_sources)
        if alias is not None:
            request.alias = alias
        else:
            request.version_id = version_id or ""
        response: pb.GetVersionResponse = self._call(
            self._stub.GetVersion, request, _Budget(timeout or self._default_timeout), idempotent=True
        )
        return response

    def list_versions(self, tenant: str, *, timeout: float | None = None) -> list[pb.VersionInfo]:
        request = pb.ListVersionsRequest(tenant=tenant)
        return list(
            self._call(
                self._stub.ListVersions, request, _Budget(timeout or self._default_timeout), idempotent=True
            ).versions
        )


def _may_have_run(error: CallError) -> bool:
    """Whether a failed Execute may have run the tool: only a server's explicit 'did not start' says no."""
    if error.code in (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
    ):
        return False
    if error.code is grpc.StatusCode.UNAVAILABLE and (
        error.reason in _NOT_STARTED_UNAVAILABLE or error.reason == STORAGE_UNAVAILABLE or _never_sent(error)
    ):
        return False
    return not (error.code is grpc.StatusCode.DEADLINE_EXCEEDED and error.reason == "DEADLINE_TOO_SHORT")


def _check_redeployed(deployment: Deployment, version_id: str | None) -> None:
    if version_id is not None and deployment.version_id != version_id:
        raise CallError(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"re-deploying the remembered bundle gave version {deployment.version_id}, not {version_id}",
        )


class AsyncClient:
    """The asyncio client: the same methods as Client, as coroutines."""

    def __init__(
        self,
        target: str,
        token: str,
        *,
        credentials: grpc.ChannelCredentials | None = None,
        options: Sequence[tuple[str, Any]] = (),
        default_timeout_s: float = DEFAULT_TIMEOUT_S,
    ):
        options = channel_options(options)
        self._channel = (
            grpc.aio.secure_channel(target, credentials, options=options)
            if credentials
            else grpc.aio.insecure_channel(target, options=options)
        )
        self._stub = pb_grpc.ToolPoolStub(self._channel)
        self._metadata = (("authorization", f"Bearer {token}"),)
        self._default_timeout = default_timeout_s
        self._bundles = _Bundles()

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def _call(self, method: Callable[..., Any], request: Any, budget: _Budget, *, idempotent: bool) -> Any:
        attempt = 0
        while True:
            attempt += 1
            remaining = budget.remaining()
            if remaining <= 0:
                # Only attempts that did not start are ever retried, so nothing ran.
                raise CallError(grpc.StatusCode.DEADLINE_EXCEEDED, "client deadline passed before the call")
            try:
                return await method(request, timeout=remaining, metadata=self._metadata + outgoing_trace_metadata())
            except grpc.aio.AioRpcError as rpc_error:
                error = _call_error(rpc_error, may_have_run=not idempotent)
                delay = _retry_delay(error, attempt, idempotent=idempotent)
                if delay is None or delay >= budget.remaining():
                    if not idempotent:
                        error.may_have_run = _may_have_run(error)
                    raise error from None
                await asyncio.sleep(delay)

    async def deploy(
        self, tenant: str, files: Mapping[str, str], *, alias: str | None = None, timeout: float | None = None
    ) -> Deployment:
        request = pb.DeployRequest(tenant=tenant, files=_wire.files_to_proto(dict(files)), alias=alias or "")
        response = await self._call(
            self._stub.Deploy, request, _Budget(timeout or self._default_timeout), idempotent=True
        )
        deployment = _deploy_outcome(response)
        self._bundles.remember(tenant, deployment.version_id, files, alias)
        return deployment

    async def execute(
        self,
        tenant: str,
        function: str,
        *,
        version_id: str | None = None,
        alias: str | None = None,
        args: Any = None,
        conversation: Mapping[str, Any] | None = None,
        deadline_ms: int | None = None,
        timeout: float | None = None,
        call_id: str | None = None,
        bundle: Mapping[str, str] | None = None,
    ) -> Result:
        return (
            await self.execute_detailed(
                tenant,
                function,
                version_id=version_id,
                alias=alias,
                args=args,
                conversation=conversation,
                deadline_ms=deadline_ms,
                timeout=timeout,
                call_id=call_id,
                bundle=bundle,
            )
        ).result

    async def execute_detailed(
        self,
        tenant: str,
        function: str,
        *,
        version_id: str | None = None,
        alias: str | None = None,
        args: Any = None,
        conversation: Mapping[str, Any] | None = None,
        deadline_ms: int | None = None,
        timeout: float | None = None,
        call_id: str | None = None,
        bundle: Mapping[str, str] | None = None,
    ) -> Executed:
        request = _execute_request(tenant, function, version_id, alias, args, conversation, deadline_ms, call_id)
        budget = _budget_for(timeout, deadline_ms, self._default_timeout)
        for resent in range(MAX_RESENDS + 1):
            try:
                return _executed(await self._call(self._stub.Execute, request, budget, idempotent=False))
            except CallError as error:
                files = bundle or self._bundles.find(tenant, version_id, alias)
                if error.reason not in _MISSING or files is None or resent == MAX_RESENDS:
                    raise
            deploy = pb.DeployRequest(tenant=tenant, files=_wire.files_to_proto(dict(files)), alias=alias or "")
            for _ in range(resent + 1):  # round n reaches n replicas in a row (module docstring)
                deployment = _deploy_outcome(await self._call(self._stub.Deploy, deploy, budget, idempotent=True))
                _check_redeployed(deployment, version_id)
                self._bundles.remember(tenant, deployment.version_id, files, alias)
        raise AssertionError("unreachable")

    async def set_secret(self, tenant: str, name: str, value: str, *, timeout: float | None = None) -> bool:
        request = pb.SetSecretRequest(tenant=tenant, name=name, value=value)
        response: pb.SetSecretResponse = await self._call(
            self._stub.SetSecret, request, _Budget(timeout or self._default_timeout), idempotent=True
        )
        return response.created

    async def delete_secret(self, tenant: str, name: str, *, timeout: float | None = None) -> bool:
        request = pb.DeleteSecretRequest(tenant=tenant, name=name)
        response: pb.DeleteSecretResponse = await self._call(
            self._stub.DeleteSecret, request, _Budget(timeout or self._default_timeout), idempotent=True
        )
        return response.deleted

    async def list_secret_names(self, tenant: str, *, timeout: float | None = None) -> list[str]:
        request = pb.ListSecretNamesRequest(tenant=tenant)
        return list(
            (
                await self._call(
                    self._stub.ListSecretNames, request, _Budget(timeout or self._default_timeout), idempotent=True
                )
            ).names
        )

    async def set_egress_policy(
        self, tenant: str, policy: Mapping[str, Any] | EgressPolicy | None, *, timeout: float | None = None
    ) -> dict[str, Any] | None:
        request = _egress_request(tenant, policy)
        return _egress_policy(
            await self._call(
                self._stub.SetEgressPolicy, request, _Budget(timeout or self._default_timeout), idempotent=True
            )
        )

    async def get_egress_policy(self, tenant: str, *, timeout: float | None = None) -> dict[str, Any] | None:
        request = pb.GetEgressPolicyRequest(tenant=tenant)
        return _egress_policy(
            await self._call(
                self._stub.GetEgressPolicy, request, _Budget(timeout or self._default_timeout), idempotent=True
            )
        )
