"""The gRPC face of ToolService: authenticate, translate, call, translate back.

Each RPC takes the same steps: refuse if draining, authenticate the bearer token, check
and authorize the tenant the request names, parse the request (``worker/translate.py``),
call ``ToolService``, build the response. Any exception becomes an RPC status in
``_boundary`` through ``translate.rpc_status``; a bug is logged with an incident id and
answered INTERNAL, and never takes the server down.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Iterator

import grpc

from worker import translate
from worker._proto.toolpool.v1 import toolpool_pb2 as pb
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc
from worker.auth import Authenticator
from worker.service import TENANT_RE, ToolService, check_name

log = logging.getLogger("toolpool.servicer")


class ToolPoolServicer(pb_grpc.ToolPoolServicer):
    def __init__(self, service: ToolService, authenticator: Authenticator):
        self._service = service
        self._auth = authenticator

    @contextlib.contextmanager
    def _boundary(self, context: grpc.ServicerContext, method: str) -> Iterator[None]:
        try:
            self._service.check_open()
            yield
        except Exception as exc:  # every failure becomes a status; see translate.rpc_status
            status, incident = translate.rpc_status(exc)
            if incident is not None:
                log.exception("%s failed: incident %s", method, incident)
            else:
                log.debug("%s -> %s %s", method, status.code.name, status.details)
            context.abort_with_status(status)

    def _authorize(self, context: grpc.ServicerContext, tenant: str) -> None:
        client = self._auth.authenticate(context.invocation_metadata(), context.auth_context())
        check_name(TENANT_RE, tenant, "tenant", "tenant name")
        self._auth.authorize(client, tenant)

    def Deploy(self, request: pb.DeployRequest, context: grpc.ServicerContext) -> pb.DeployResponse:
        with self._boundary(context, "Deploy"):
            self._authorize(context, request.tenant)
            tenant, files, alias = translate.deploy_request(request)
            return translate.deploy_response(self._service.deploy(tenant, files, alias))

    def Execute(self, request: pb.ExecuteRequest, context: grpc.ServicerContext) -> pb.ExecuteResponse:
        received_at = time.monotonic()
        remaining = context.time_remaining()
        rpc_deadline = received_at + remaining if remaining is not None else None
        with self._boundary(context, "Execute"):
            self._authorize(context, request.tenant)
            call = translate.execute_call(request)
            executed = self._service.execute(call, received_at=received_at, rpc_deadline=rpc_deadline)
            return translate.execute_response(executed)

    def GetVersion(self, request: pb.GetVersionRequest, context: grpc.ServicerContext) -> pb.GetVersionResponse:
        with self._boundary(context, "GetVersion"):
            self._authorize(context, request.tenant)
            stored = self._service.get_version(request.tenant, translate.target(request))
            return translate.get_version_response(stored, request.include_sources)

    def ListVersions(self, request: pb.ListVersionsRequest, context: grpc.ServicerContext) -> pb.ListVersionsResponse:
        with self._boundary(context, "ListVersions"):
            self._authorize(context, request.tenant)
            versions = self._service.list_versions(request.tenant)
            return pb.ListVersionsResponse(versions=[translate.version_info(v) for v in versions])

    def SetSecret(self, request: pb.SetSecretRequest, context: grpc.ServicerContext) -> pb.SetSecretResponse:
        with self._boundary(context, "SetSecret"):
            self._authorize(context, request.tenant)
            created = self._service.set_secret(request.tenant, request.name, request.value)
            return pb.SetSecretResponse(created=created)

    def DeleteSecret(self, request: pb.DeleteSecretRequest, context: grpc.ServicerContext) -> pb.DeleteSecretResponse:
        with self._boundary(context, "DeleteSecret"):
            self._authorize(context, request.tenant)
            return pb.DeleteSecretResponse(deleted=self._service.delete_secret(request.tenant, request.name))

    def ListSecretNames(
        self, request: pb.ListSecretNamesRequest, context: grpc.ServicerContext
    ) -> pb.ListSecretNamesResponse:
        with self._boundary(context, "ListSecretNames"):
            self._authorize(context, request.tenant)
            return pb.ListSecretNamesResponse(names=self._service.secret_names(request.tenant))
