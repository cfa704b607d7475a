"""The gRPC face of ToolService: authenticate, translate, call, translate back.

Each RPC takes the same steps: refuse if draining, authenticate the bearer token, check
and authorize the tenant the request names, parse the request (``worker/translate.py``),
call ``ToolService``, build the response. Execute asks admission first whether the call
would be refused at once, so that refusing a call never costs parsing its conversation. SetEgressPolicy also needs an operator client
(``Authenticator.require_operator``). Any exception becomes an RPC status in
``_boundary`` through ``translate.rpc_status``; a bug is logged with an incident id and
answered INTERNAL, and never takes the server down.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import cast

import grpc

from sandbox.supervisor.call import new_call_id
from worker import observability, translate
from worker._proto.toolpool.v1 import toolpool_pb2 as pb
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc
from worker.auth import Authenticator
from worker.checks import CALL_ID_RE, TENANT_RE, check_name
from worker.config import ClientConfig
from worker.service import ToolService

log = logging.getLogger("toolpool.servicer")


@dataclasses.dataclass
class _Rpc:
    """What one RPC learned about itself: the tenant once it was authorized."""

    tenant: str | None = None


class ToolPoolServicer(pb_grpc.ToolPoolServicer):  # type: ignore[misc]  # the generated _pb2_grpc module has no stubs
    def __init__(self, service: ToolService, authenticator: Authenticator):
        self._service = service
        self._auth = authenticator
        self._metrics = service.metrics

    @contextlib.contextmanager
    def _boundary(self, context: grpc.ServicerContext, method: str) -> Iterator[_Rpc]:
        """Log context and trace context for the RPC, its metrics, and errors to statuses."""
        rpc = _Rpc()
        with observability.rpc_scope(method, context.invocation_metadata()):
            try:
                self._service.check_open()
                yield rpc
            except Exception as exc:  # every failure becomes a status; see translate.rpc_status
                status, incident = translate.rpc_status(exc)
                if incident is not None:
                    log.exception("%s failed: incident %s", method, incident)
                else:
                    log.debug("%s -> %s %s", method, status.code.name, status.details)
                self._metrics.rpc_finished(method, status.code.name)
                if method == "Execute" and rpc.tenant is not None:
                    self._metrics.call_refused(rpc.tenant, _reason(status))
                context.abort_with_status(status)
            else:
                self._metrics.rpc_finished(method, grpc.StatusCode.OK.name)

    def _authorize(self, context: grpc.ServicerContext, rpc: _Rpc, tenant: str) -> ClientConfig:
        # typeshed's grpc stubs say Mapping[str, bytes]; grpc gives each property a list of values.
        auth_context = cast(Mapping[str, Sequence[bytes]], context.auth_context())
        client = self._auth.authenticate(context.invocation_metadata(), auth_context)
        check_name(TENANT_RE, tenant, "tenant", "tenant name")
        self._auth.authorize(client, tenant)
        rpc.tenant = tenant  # only now may it become a log field or a metrics label
        observability.annotate(tenant=tenant)
        return client

    def Deploy(self, request: pb.DeployRequest, context: grpc.ServicerContext) -> pb.DeployResponse:
        with self._boundary(context, "Deploy") as rpc:
            self._authorize(context, rpc, request.tenant)
            tenant, files, alias = translate.deploy_request(request)
            remaining = context.time_remaining()
            wait_until = time.monotonic() + remaining if remaining is not None else None
            return translate.deploy_response(self._service.deploy(tenant, files, alias, wait_until=wait_until))

    def Execute(self, request: pb.ExecuteRequest, context: grpc.ServicerContext) -> pb.ExecuteResponse:
        received_at = time.monotonic()
        rpc_remaining_s = context.time_remaining()
        with self._boundary(context, "Execute") as rpc:
            # The call id is fixed here, before anything is logged, so that every line of
            # this call carries it; the client gets it back in the response. Its only default.
            call_id = request.call_id or new_call_id()
            if CALL_ID_RE.fullmatch(call_id):
                observability.annotate(call_id=call_id)
            self._authorize(context, rpc, request.tenant)
            # The call's one deadline, from the request's deadline_ms, the tool kind's cap and
            # the caller's gRPC deadline; it travels as it is from here to the pool.
            deadline = self._service.deadline(
                request.function, request.deadline_ms, received_at=received_at, rpc_remaining_s=rpc_remaining_s
            )
            # Before the request's JSON is parsed: a call admission refuses costs nothing more.
            self._service.refuse_early(request.tenant, request.function, deadline)
            call = translate.execute_call(request, call_id=call_id, deadline=deadline)
            gone = threading.Event()  # set when the RPC ends: before the reply only if the caller went away
            context.add_callback(gone.set)
            executed = self._service.execute(call, received_at=received_at, cancelled=gone)
            return translate.execute_response(executed)

    def GetVersion(self, request: pb.GetVersionRequest, context: grpc.ServicerContext) -> pb.GetVersionResponse:
        with self._boundary(context, "GetVersion") as rpc:
            self._authorize(context, rpc, request.tenant)
            stored = self._service.get_version(request.tenant, translate.target(request))
            return translate.get_version_response(stored, request.include_sources)

    def ListVersions(self, request: pb.ListVersionsRequest, context: grpc.ServicerContext) -> pb.ListVersionsResponse:
        with self._boundary(context, "ListVersions") as rpc:
            self._authorize(context, rpc, request.tenant)
            versions = self._service.list_versions(request.tenant)
            return pb.ListVersionsResponse(versions=[translate.version_info(v) for v in versions])

    def SetSecret(self, request: pb.SetSecretRequest, context: grpc.ServicerContext) -> pb.SetSecretResponse:
        with self._boundary(context, "SetSecret") as rpc:
            self._authorize(context, rpc, request.tenant)
            created = self._service.set_secret(request.tenant, request.name, request.value)
            return pb.SetSecretResponse(created=created)

    def DeleteSecret(self, request: pb.DeleteSecretRequest, context: grpc.ServicerContext) -> pb.DeleteSecretResponse:
        with self._boundary(context, "DeleteSecret") as rpc:
            self._authorize(context, rpc, request.tenant)
            return pb.DeleteSecretResponse(deleted=self._service.delete_secret(request.tenant, request.name))

    def ListSecretNames(
        self, request: pb.ListSecretNamesRequest, context: grpc.ServicerContext
    ) -> pb.ListSecretNamesResponse:
        with self._boundary(context, "ListSecretNames") as rpc:
            self._authorize(context, rpc, request.tenant)
            return pb.ListSecretNamesResponse(names=self._service.secret_names(request.tenant))

    def SetEgressPolicy(
        self, request: pb.SetEgressPolicyRequest, context: grpc.ServicerContext
    ) -> pb.SetEgressPolicyResponse:
        with self._boundary(context, "SetEgressPolicy") as rpc:
            client = self._authorize(context, rpc, request.tenant)
            # An address rule can open private and link-local addresses: operators only.
            self._auth.require_operator(client, "set egress policies")
            stored = self._service.set_egress_policy(
                request.tenant, translate.egress_policy_request(request), actor=client.name
            )
            return translate.egress_policy_response(stored, pb.SetEgressPolicyResponse)

    def GetEgressPolicy(
        self, request: pb.GetEgressPolicyRequest, context: grpc.ServicerContext
    ) -> pb.GetEgressPolicyResponse:
        with self._boundary(context, "GetEgressPolicy") as rpc:
            self._authorize(context, rpc, request.tenant)
            stored = self._service.egress_policy(request.tenant)
            return translate.egress_policy_response(stored, pb.GetEgressPolicyResponse)


def _reason(status: translate.RpcStatus) -> str:
    for key, value in status.trailing_metadata:
        if key == translate.REASON_KEY:
            return str(value)
    return status.code.name
