"""Authentication and tenancy: who may call, and for which tenant; cross-tenant denial."""

from __future__ import annotations

import json

import grpc
import pytest

from tests.integration.harness import (
    ACME_TOKEN,
    GLOBEX_TOKEN,
    ORCH_TOKEN,
    TOOLS,
    auth,
    deploy,
    execute,
    reason,
    rpc_error,
)
from worker._proto.toolpool.v1 import toolpool_pb2 as pb

EVERY_RPC = {
    "Deploy": pb.DeployRequest(tenant="acme", files=[pb.SourceFile(name="t.py", source="x = 1\n")]),
    "Execute": pb.ExecuteRequest(tenant="acme", version_id="0" * 64, function="f"),
    "GetVersion": pb.GetVersionRequest(tenant="acme", alias="latest"),
    "ListVersions": pb.ListVersionsRequest(tenant="acme"),
    "SetSecret": pb.SetSecretRequest(tenant="acme", name="k", value="v"),
    "DeleteSecret": pb.DeleteSecretRequest(tenant="acme", name="k"),
    "ListSecretNames": pb.ListSecretNamesRequest(tenant="acme"),
}

BAD_CREDENTIALS = {
    "none": (),
    "wrong scheme": (("authorization", f"Basic {ORCH_TOKEN}"),),
    "empty bearer": (("authorization", "Bearer "),),
    "unknown token": (("authorization", "Bearer not-a-real-token"),),
    "two headers": (("authorization", f"Bearer {ORCH_TOKEN}"), ("authorization", f"Bearer {ACME_TOKEN}")),
}


@pytest.mark.parametrize("credentials", BAD_CREDENTIALS.values(), ids=BAD_CREDENTIALS.keys())
@pytest.mark.parametrize("method", EVERY_RPC)
def test_every_rpc_refuses_bad_credentials(running, method, credentials):
    error = rpc_error(getattr(running.stub, method), EVERY_RPC[method], metadata=credentials, timeout=5)
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED
    assert reason(error) == "UNAUTHENTICATED_CLIENT"
    assert ORCH_TOKEN not in error.details() and "not-a-real-token" not in error.details()


@pytest.mark.parametrize("method", EVERY_RPC)
def test_every_rpc_refuses_a_tenant_the_client_may_not_act_for(running, method):
    error = rpc_error(getattr(running.stub, method), EVERY_RPC[method], metadata=auth(GLOBEX_TOKEN), timeout=5)
    assert error.code() is grpc.StatusCode.PERMISSION_DENIED
    assert reason(error) == "TENANT_NOT_ALLOWED"


@pytest.fixture(scope="module")
def tenants(running):
    """acme and globex each deploy the same tools and a secret with the same name."""
    stub = running.stub
    acme = deploy(stub, "acme", alias="latest", token=ACME_TOKEN).deployed.version_id
    globex = deploy(
        stub,
        "globex",
        {"globex.py": "def start_function(conv):\n    return 'globex'\n"},
        alias="latest",
        token=GLOBEX_TOKEN,
    ).deployed.version_id
    stub.SetSecret(
        pb.SetSecretRequest(tenant="acme", name="api_key", value="acme-secret-value"), metadata=auth(ACME_TOKEN)
    )
    stub.SetSecret(
        pb.SetSecretRequest(tenant="globex", name="api_key", value="globex-secret-value-longer"),
        metadata=auth(GLOBEX_TOKEN),
    )
    return {"acme": acme, "globex": globex}


def test_tenant_a_cannot_execute_tenant_bs_version(running, tenants):
    # acme's client may not name globex at all ...
    error = rpc_error(execute, running.stub, "globex", "start_function", version_id=tenants["globex"], token=ACME_TOKEN)
    assert error.code() is grpc.StatusCode.PERMISSION_DENIED
    # ... and globex's version id means nothing under acme, even for a client allowed both.
    error = rpc_error(execute, running.stub, "acme", "start_function", version_id=tenants["globex"])
    assert error.code() is grpc.StatusCode.NOT_FOUND and reason(error) == "VERSION_NOT_FOUND"


def test_tenant_a_cannot_read_tenant_bs_tools(running, tenants):
    request = pb.GetVersionRequest(tenant="globex", version_id=tenants["globex"], include_sources=True)
    assert (
        rpc_error(running.stub.GetVersion, request, metadata=auth(ACME_TOKEN)).code()
        is grpc.StatusCode.PERMISSION_DENIED
    )
    request = pb.GetVersionRequest(tenant="acme", version_id=tenants["globex"], include_sources=True)
    assert rpc_error(running.stub.GetVersion, request, metadata=auth(ACME_TOKEN)).code() is grpc.StatusCode.NOT_FOUND
    listed = running.stub.ListVersions(pb.ListVersionsRequest(tenant="acme"), metadata=auth(ACME_TOKEN))
    assert tenants["globex"] not in {v.version_id for v in listed.versions}


def test_tenant_a_cannot_overwrite_tenant_bs_tools_or_secrets(running, tenants):
    error = rpc_error(deploy, running.stub, "globex", alias="latest", token=ACME_TOKEN)
    assert error.code() is grpc.StatusCode.PERMISSION_DENIED
    for request in (
        pb.SetSecretRequest(tenant="globex", name="api_key", value="hijack"),
        pb.DeleteSecretRequest(tenant="globex", name="api_key"),
    ):
        method = running.stub.SetSecret if isinstance(request, pb.SetSecretRequest) else running.stub.DeleteSecret
        assert rpc_error(method, request, metadata=auth(ACME_TOKEN)).code() is grpc.StatusCode.PERMISSION_DENIED
    # globex's alias and secret are untouched.
    result = execute(running.stub, "globex", "start_function", alias="latest", token=GLOBEX_TOKEN).result
    assert json.loads(result.action_json) == {"content": "globex"}
    names = running.stub.ListSecretNames(pb.ListSecretNamesRequest(tenant="globex"), metadata=auth(GLOBEX_TOKEN))
    assert list(names.names) == ["api_key"]


def test_get_secret_sees_only_the_calling_tenants_secrets(running, tenants):
    result = execute(
        running.stub, "acme", "secret_length", version_id=tenants["acme"], args={"name": "api_key"}, token=ACME_TOKEN
    ).result
    assert result.status == pb.OK
    assert json.loads(result.state_json)["length"] == len("acme-secret-value")
    # globex deployed the same tools under its own tenant: it sees its own value.
    globex_tools = deploy(running.stub, "globex", {"tools.py": TOOLS}, token=GLOBEX_TOKEN).deployed.version_id
    assert globex_tools == tenants["acme"]  # same content, same address; separate tenants
    result = execute(
        running.stub, "globex", "secret_length", version_id=globex_tools, args={"name": "api_key"}, token=GLOBEX_TOKEN
    ).result
    assert json.loads(result.state_json)["length"] == len("globex-secret-value-longer")
    # Secret values are redacted from the tool's logs.
    assert all("secret-value" not in record.message for record in result.logs)


def test_a_client_allowed_several_tenants_acts_for_each(running, tenants):
    for tenant in ("acme", "globex"):
        names = running.stub.ListSecretNames(pb.ListSecretNamesRequest(tenant=tenant), metadata=auth(ORCH_TOKEN))
        assert list(names.names) == ["api_key"]
