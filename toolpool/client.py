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
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import grpc

from toolpool import _wire
from toolpool._trace import outgoing_trace_metadata
from toolpool.channels import SERVICE_CONFIG as SERVICE_CONFIG
from toolpool.channels import SERVICE_NAME as SERVICE_NAME
from toolpool.channels import channel_options as channel_options
from toolpool.channels import default_channel_options as default_channel_options
from toolpool.channels import replicas_target as replicas_target
from toolpool.result import Result
from toolpool.retries import MAX_ATTEMPTS as MAX_ATTEMPTS
from toolpool.retries import STORAGE_UNAVAILABLE as STORAGE_UNAVAILABLE
from toolpool.retries import Budget, call_error, may_have_run, retry_delay
from toolpool.retries import CallError as CallError
from toolpool.retries import CompileFailed as CompileFailed
from worker._proto.toolpool.v1 import toolpool_pb2 as pb
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc

if TYPE_CHECKING:
    from sandbox.egress.policy import EgressPolicy

DEFAULT_TIMEOUT_S = 10.0
REPLY_SLACK_S = 1.0
# Re-sends of a bundle for one call. round_robin may send the re-sent bundle to one
# replica and the retried call to another that lacks it too; each Deploy adds the bundle
# to one more replica (content-addressed, idempotent), so a few rounds always converge.
MAX_RESENDS = 8
_MISSING = frozenset({"VERSION_NOT_FOUND", "ALIAS_NOT_FOUND"})


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


def _budget_for(timeout: float | None, deadline_ms: int | None, default: float) -> Budget:
    if timeout is not None:
        return Budget(timeout)
    if deadline_ms:
        return Budget(deadline_ms / 1000 + REPLY_SLACK_S)
    return Budget(default)


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

    def _call(self, method: Callable[..., Any], request: Any, budget: Budget, *, idempotent: bool) -> Any:
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
                error = call_error(rpc_error, may_have_run=not idempotent)
                delay = retry_delay(error, attempt, idempotent=idempotent)
                if delay is None or delay >= budget.remaining():
                    if not idempotent:
                        error.may_have_run = may_have_run(error)
                    raise error from None
                time.sleep(delay)

    def deploy(
        self, tenant: str, files: Mapping[str, str], *, alias: str | None = None, timeout: float | None = None
    ) -> Deployment:
        """Deploys the bundle; raises CompileFailed with per-file, per-line errors."""
        request = pb.DeployRequest(tenant=tenant, files=_wire.files_to_proto(dict(files)), alias=alias or "")
        response = self._call(self._stub.Deploy, request, Budget(timeout or self._default_timeout), idempotent=True)
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
        self, tenant: str, files: Mapping[str, str], version_id: str | None, alias: str | None, budget: Budget
    ) -> None:
        request = pb.DeployRequest(tenant=tenant, files=_wire.files_to_proto(dict(files)), alias=alias or "")
        deployment = _deploy_outcome(self._call(self._stub.Deploy, request, budget, idempotent=True))
        _check_redeployed(deployment, version_id)
        self._bundles.remember(tenant, deployment.version_id, files, alias)

    def set_secret(self, tenant: str, name: str, value: str, *, timeout: float | None = None) -> bool:
        request = pb.SetSecretRequest(tenant=tenant, name=name, value=value)
        response: pb.SetSecretResponse = self._call(
            self._stub.SetSecret, request, Budget(timeout or self._default_timeout), idempotent=True
        )
        return response.created

    def delete_secret(self, tenant: str, name: str, *, timeout: float | None = None) -> bool:
        request = pb.DeleteSecretRequest(tenant=tenant, name=name)
        response: pb.DeleteSecretResponse = self._call(
            self._stub.DeleteSecret, request, Budget(timeout or self._default_timeout), idempotent=True
        )
        return response.deleted

    def list_secret_names(self, tenant: str, *, timeout: float | None = None) -> list[str]:
        request = pb.ListSecretNamesRequest(tenant=tenant)
        return list(
            self._call(
                self._stub.ListSecretNames, request, Budget(timeout or self._default_timeout), idempotent=True
            ).names
        )

    def set_egress_policy(
        self, tenant: str, policy: Mapping[str, Any] | EgressPolicy | None, *, timeout: float | None = None
    ) -> dict[str, Any] | None:
        """Sets the tenant's egress policy (None: no outbound HTTP); operator clients only
        (else PERMISSION_DENIED, reason OPERATOR_ONLY). Returns the policy as stored."""
        request = _egress_request(tenant, policy)
        return _egress_policy(
            self._call(self._stub.SetEgressPolicy, request, Budget(timeout or self._default_timeout), idempotent=True)
        )

    def get_egress_policy(self, tenant: str, *, timeout: float | None = None) -> dict[str, Any] | None:
        """The tenant's egress policy as stored, or None: no outbound HTTP."""
        request = pb.GetEgressPolicyRequest(tenant=tenant)
        return _egress_policy(
            self._call(self._stub.GetEgressPolicy, request, Budget(timeout or self._default_timeout), idempotent=True)
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
            self._stub.GetVersion, request, Budget(timeout or self._default_timeout), idempotent=True
        )
        return response

    def list_versions(self, tenant: str, *, timeout: float | None = None) -> list[pb.VersionInfo]:
        request = pb.ListVersionsRequest(tenant=tenant)
        return list(
            self._call(
                self._stub.ListVersions, request, Budget(timeout or self._default_timeout), idempotent=True
            ).versions
        )


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

    async def _call(self, method: Callable[..., Any], request: Any, budget: Budget, *, idempotent: bool) -> Any:
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
                error = call_error(rpc_error, may_have_run=not idempotent)
                delay = retry_delay(error, attempt, idempotent=idempotent)
                if delay is None or delay >= budget.remaining():
                    if not idempotent:
                        error.may_have_run = may_have_run(error)
                    raise error from None
                await asyncio.sleep(delay)

    async def deploy(
        self, tenant: str, files: Mapping[str, str], *, alias: str | None = None, timeout: float | None = None
    ) -> Deployment:
        request = pb.DeployRequest(tenant=tenant, files=_wire.files_to_proto(dict(files)), alias=alias or "")
        response = await self._call(
            self._stub.Deploy, request, Budget(timeout or self._default_timeout), idempotent=True
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
            self._stub.SetSecret, request, Budget(timeout or self._default_timeout), idempotent=True
        )
        return response.created

    async def delete_secret(self, tenant: str, name: str, *, timeout: float | None = None) -> bool:
        request = pb.DeleteSecretRequest(tenant=tenant, name=name)
        response: pb.DeleteSecretResponse = await self._call(
            self._stub.DeleteSecret, request, Budget(timeout or self._default_timeout), idempotent=True
        )
        return response.deleted

    async def list_secret_names(self, tenant: str, *, timeout: float | None = None) -> list[str]:
        request = pb.ListSecretNamesRequest(tenant=tenant)
        return list(
            (
                await self._call(
                    self._stub.ListSecretNames, request, Budget(timeout or self._default_timeout), idempotent=True
                )
            ).names
        )

    async def set_egress_policy(
        self, tenant: str, policy: Mapping[str, Any] | EgressPolicy | None, *, timeout: float | None = None
    ) -> dict[str, Any] | None:
        request = _egress_request(tenant, policy)
        return _egress_policy(
            await self._call(
                self._stub.SetEgressPolicy, request, Budget(timeout or self._default_timeout), idempotent=True
            )
        )

    async def get_egress_policy(self, tenant: str, *, timeout: float | None = None) -> dict[str, Any] | None:
        request = pb.GetEgressPolicyRequest(tenant=tenant)
        return _egress_policy(
            await self._call(
                self._stub.GetEgressPolicy, request, Budget(timeout or self._default_timeout), idempotent=True
            )
        )
