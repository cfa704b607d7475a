"""Outbound HTTP through the service: per-tenant egress policies, set over gRPC by an
operator, enforced on every request a tool makes, kept across restarts.

A real server (port 0, metrics on) and a local HTTP server on 127.0.0.1
(tests/egress/servers.py). Loopback is never reachable unless a tenant's policy names it,
so each tenant here is opened to the local server by an address rule, or deliberately not.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from sandbox.egress.policy import EgressPolicy
from tests.egress.servers import LocalServer
from tests.integration.harness import (
    ACME_TOKEN,
    GLOBEX_TOKEN,
    ORCH_TOKEN,
    REPO,
    auth,
    config_text,
    deploy,
    execute,
    reason,
    rpc_error,
)
from worker._proto.toolpool.v1 import toolpool_pb2 as pb
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc
from worker.client import AsyncToolpoolClient, ToolpoolCallError, ToolpoolClient
from worker.config import load_config
from worker.server import ToolpoolServer

OPS_TOKEN = "ops-token-0123456789"  # the only operator: tenants "*", operator = true
OPS_CLIENT = f'[[clients]]\nname = "ops"\ntoken = "{OPS_TOKEN}"\ntenants = ["*"]\noperator = true\n'

TOOLS = '''
import requests


def fetch(conv, urls):
    """Each URL's status and JSON, or the error the tool saw."""
    seen = []
    for url in urls:
        try:
            r = requests.get(url, timeout=3)
            seen.append({"status": r.status_code, "json": r.json()})
        except requests.EgressRefused as e:
            seen.append({"error": "EgressRefused", "message": str(e)})
        except requests.JSONDecodeError as e:
            seen.append({"error": "JSONDecodeError", "message": str(e)})
        except requests.RequestException as e:
            seen.append({"error": "RequestException", "message": str(e)})
    conv.state.seen = seen
    return "fetched"


def fetch_unguarded(conv, url):
    return str(requests.get(url, timeout=3).json())
'''


class Replica:
    """One in-process server on a fixed database, restartable."""

    def __init__(self, directory: Path):
        self.config_path = directory / "toolpool.toml"
        self.config_path.write_text(
            config_text(directory / "toolpool.db", directory / "dev-token", metrics={"enabled": True, "port": 0})
            + OPS_CLIENT
        )
        self.home = directory
        self.server: ToolpoolServer | None = None
        self.channel: grpc.Channel | None = None
        self.stub: pb_grpc.ToolPoolStub | None = None

    def start(self) -> None:
        self.server = ToolpoolServer(load_config(self.config_path, env={"HOME": str(self.home)}))
        self.server.start()
        self.channel = grpc.insecure_channel(self.target)
        self.stub = pb_grpc.ToolPoolStub(self.channel)

    def stop(self) -> None:
        self.channel.close()
        self.server.stop(grace_s=5)

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server.port}"


@pytest.fixture(scope="module")
def replica(tmp_path_factory) -> Iterator[Replica]:
    replica = Replica(tmp_path_factory.mktemp("egress-server"))
    replica.start()
    try:
        yield replica
    finally:
        replica.stop()


@pytest.fixture(scope="module")
def web() -> Iterator[LocalServer]:
    server = LocalServer().start()
    yield server
    server.stop()


def set_policy(
    stub: pb_grpc.ToolPoolStub, tenant: str, policy: dict[str, Any] | None, *, token: str = OPS_TOKEN
) -> pb.SetEgressPolicyResponse:
    request = pb.SetEgressPolicyRequest(tenant=tenant)
    if policy is not None:
        request.policy.CopyFrom(pb.EgressPolicy(**policy))
    return stub.SetEgressPolicy(request, metadata=auth(token), timeout=10)


def get_policy(stub: pb_grpc.ToolPoolStub, tenant: str, *, token: str = OPS_TOKEN) -> pb.GetEgressPolicyResponse:
    return stub.GetEgressPolicy(pb.GetEgressPolicyRequest(tenant=tenant), metadata=auth(token), timeout=10)


def only_the(web: LocalServer) -> dict[str, Any]:
    """A policy naming the local server's address and port, and nothing else."""
    return {"addresses": [pb.EgressAddressRule(network="127.0.0.1", ports=[web.port])]}


def fetch(replica: Replica, tenant: str, *urls: str, token: str = OPS_TOKEN) -> pb.Result:
    version = deploy(replica.stub, tenant, {"tools.py": TOOLS}, token=token).deployed.version_id
    return execute(
        replica.stub, tenant, "fetch", version_id=version, args={"urls": list(urls)}, token=token, timeout=30
    ).result


def seen(result: pb.Result) -> list[dict[str, Any]]:
    assert result.status == pb.OK, result.error
    return json.loads(result.state_json)["seen"]


def test_without_a_policy_a_request_is_refused_naming_the_host(replica, web):
    assert not get_policy(replica.stub, "nopolicy").HasField("policy")
    url = f"http://127.0.0.1:{web.port}/json"
    before = len(web.hits)
    version = deploy(replica.stub, "nopolicy", {"tools.py": TOOLS}, token=OPS_TOKEN).deployed.version_id
    result = execute(
        replica.stub, "nopolicy", "fetch_unguarded", version_id=version, args={"url": url}, token=OPS_TOKEN, timeout=30
    ).result
    assert result.status == pb.RUNTIME_ERROR
    assert result.error.message == (
        "EgressRefused: outbound HTTP is not enabled for this tenant: the request to 127.0.0.1 is refused"
    )
    assert result.usage.http_requests == 1 and result.usage.http_bytes == 0
    assert any(r.message.startswith(f"http GET 127.0.0.1:{web.port} refused") for r in result.logs)
    assert len(web.hits) == before  # nothing reached the server


def test_an_operator_opens_the_local_server_and_the_tool_gets_json(replica, web):
    response = set_policy(replica.stub, "acme", only_the(web))
    stored = {
        "hosts": [],
        "addresses": [{"network": "127.0.0.1/32", "ports": [web.port]}],
        "max_requests": 20,
        "max_response_bytes": 2 * 1024 * 1024,
        "max_request_bytes": 256 * 1024,
        "max_redirects": 5,
        "ca_pem": None,
    }
    with ToolpoolClient(replica.target, ACME_TOKEN) as client:  # the tenant's own client may read it
        assert client.get_egress_policy("acme") == stored
    assert response.updated_unix_ms > 0 and response.policy == get_policy(replica.stub, "acme").policy

    result = fetch(
        replica,
        "acme",
        f"http://127.0.0.1:{web.port}/json",
        f"http://127.0.0.1:{web.port}/status/404",
        token=ACME_TOKEN,
    )
    first, second = seen(result)
    assert first == {"status": 200, "json": {"hello": "world", "n": 1}}
    assert second["error"] == "JSONDecodeError"  # a 404 is a response, "status 404" is not JSON
    assert result.usage.http_requests == 2 and result.usage.http_bytes > 0
    assert [r.message.split()[:4] for r in result.logs if r.message.startswith("http ")] == [
        ["http", "GET", f"127.0.0.1:{web.port}", "200"],
        ["http", "GET", f"127.0.0.1:{web.port}", "404"],
    ]


def test_only_an_operator_may_set_a_policy(replica, web):
    set_policy(replica.stub, "globex", only_the(web))
    for token in (ORCH_TOKEN, GLOBEX_TOKEN):  # allowed the tenant, but no operators
        for policy in ({"addresses": [pb.EgressAddressRule(network="169.254.169.254")]}, None):
            error = rpc_error(set_policy, replica.stub, "globex", policy, token=token)
            assert error.code() is grpc.StatusCode.PERMISSION_DENIED and reason(error) == "OPERATOR_ONLY"
            assert "operator" in error.details()
    with ToolpoolClient(replica.target, GLOBEX_TOKEN) as client:
        with pytest.raises(ToolpoolCallError) as caught:
            client.set_egress_policy("globex", None)
        assert caught.value.reason == "OPERATOR_ONLY"
        # unchanged, and readable by the tenant's own client
        assert client.get_egress_policy("globex")["addresses"] == [{"network": "127.0.0.1/32", "ports": [web.port]}]
    # reading is per tenant, as every RPC
    error = rpc_error(get_policy, replica.stub, "globex", token=ACME_TOKEN)
    assert error.code() is grpc.StatusCode.PERMISSION_DENIED and reason(error) == "TENANT_NOT_ALLOWED"


@pytest.mark.parametrize("method", ["SetEgressPolicy", "GetEgressPolicy"])
def test_the_policy_rpcs_need_credentials(replica, method):
    request = getattr(pb, method + "Request")(tenant="acme")
    for metadata in ((), (("authorization", "Bearer not-a-real-token"),)):
        error = rpc_error(getattr(replica.stub, method), request, metadata=metadata, timeout=10)
        assert error.code() is grpc.StatusCode.UNAUTHENTICATED and reason(error) == "UNAUTHENTICATED_CLIENT"


def test_one_tenants_policy_never_applies_to_another(replica, web):
    set_policy(replica.stub, "tenant-b", only_the(web))
    set_policy(replica.stub, "tenant-a", {"hosts": [pb.EgressHostRule(pattern="api.example.com")]})
    url = f"http://127.0.0.1:{web.port}/json"
    assert seen(fetch(replica, "tenant-b", url)) == [{"status": 200, "json": {"hello": "world", "n": 1}}]
    [refused] = seen(fetch(replica, "tenant-a", url))
    assert refused["error"] == "EgressRefused"
    assert refused["message"].startswith("127.0.0.1 is not reachable: a loopback address")
    # switched off: no egress at all, as if never set
    assert not set_policy(replica.stub, "tenant-b", None).HasField("policy")
    assert not get_policy(replica.stub, "tenant-b").HasField("policy")
    [off] = seen(fetch(replica, "tenant-b", url))
    assert off["message"] == "outbound HTTP is not enabled for this tenant: the request to 127.0.0.1 is refused"


@pytest.mark.parametrize(
    "policy, field",
    [
        (
            {"hosts": [pb.EgressHostRule(pattern="api.example.com"), pb.EgressHostRule(pattern="bad host!")]},
            "policy.hosts[1].pattern",
        ),
        ({"hosts": [pb.EgressHostRule(pattern="api.example.com", schemes=["gopher"])]}, "policy.hosts[0].schemes"),
        ({"addresses": [pb.EgressAddressRule(network="0.0.0.0/0")]}, "policy.addresses[0].network"),
        ({"addresses": [pb.EgressAddressRule(network="10.0.0.1", ports=[0])]}, "policy.addresses[0].ports"),
        ({"max_requests": 100_000}, "policy.max_requests"),
        ({"ca_pem": "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"}, "policy.ca_pem"),
    ],
)
def test_a_malformed_policy_is_invalid_argument_naming_the_field(replica, web, policy, field):
    set_policy(replica.stub, "malformed", only_the(web))
    error = rpc_error(set_policy, replica.stub, "malformed", policy)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT and reason(error) == "INVALID_FIELD"
    assert error.details().startswith(field + ": "), error.details()
    rich = status_pb2.Status.FromString(dict(error.trailing_metadata())["grpc-status-details-bin"])
    violations = []
    for detail in rich.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            violations += [v.field for v in bad_request.field_violations]
    assert violations == [field]
    # nothing was stored: the previous policy stands
    assert [a.network for a in get_policy(replica.stub, "malformed").policy.addresses] == ["127.0.0.1/32"]


def test_the_services_own_ports_are_refused_even_when_the_policy_names_the_address(replica, web):
    set_policy(replica.stub, "ports", {"addresses": [pb.EgressAddressRule(network="127.0.0.1")]})
    grpc_port, metrics_port = replica.server.port, replica.server.metrics_port
    local, own_grpc, own_metrics = seen(
        fetch(
            replica,
            "ports",
            f"http://127.0.0.1:{web.port}/json",
            f"http://127.0.0.1:{grpc_port}/",
            f"http://127.0.0.1:{metrics_port}/metrics",
        )
    )
    assert local["status"] == 200  # the address rule names 127.0.0.1, any port ...
    for port, answer in ((grpc_port, own_grpc), (metrics_port, own_metrics)):  # ... but the service's own
        assert answer["error"] == "EgressRefused"
        assert f"port {port} is one of the service's own ports" in answer["message"]


def test_clients_set_and_get_policies_sync_and_async(replica, web):
    policy = (
        EgressPolicy()
        .with_host("api.example.com")
        .with_address("127.0.0.1", ports=[web.port])
        .with_limits(max_requests=3)
    )
    with ToolpoolClient(replica.target, OPS_TOKEN) as client:
        assert client.set_egress_policy("clients", policy) == policy.to_dict()
        assert client.get_egress_policy("clients") == policy.to_dict()

    async def run() -> tuple[Any, Any, Any]:
        async with AsyncToolpoolClient(replica.target, OPS_TOKEN) as client:
            subset = await client.set_egress_policy("clients", {"hosts": [{"pattern": "*.example.com"}]})
            got = await client.get_egress_policy("clients")
            off = await client.set_egress_policy("clients", None)
            return subset, got, off

    subset, got, off = asyncio.run(run())
    assert subset == got == EgressPolicy().with_host("*.example.com").to_dict()
    assert off is None
    with ToolpoolClient(replica.target, OPS_TOKEN) as client:
        assert client.get_egress_policy("clients") is None


def toolpool(replica: Replica, *args: str, token: str) -> subprocess.CompletedProcess:
    """The installed ``toolpool`` command, the console script an operator runs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOOLPOOL_")}
    env.update(TOOLPOOL_TARGET=replica.target, TOOLPOOL_TOKEN=token)
    return subprocess.run(
        [str(Path(sys.executable).with_name("toolpool")), "egress", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_toolpool_egress_set_and_get(replica, web):
    done = toolpool(replica, "set", "--tenant", "acme", "--allow-address", f"127.0.0.1:{web.port}", token=ACME_TOKEN)
    assert done.returncode == 2 and "PERMISSION_DENIED [OPERATOR_ONLY]" in done.stderr
    done = toolpool(
        replica,
        "set",
        "--tenant",
        "cli",
        "--allow-host",
        "https://api.example.com",
        "--allow-address",
        f"127.0.0.1:{web.port}",
        token=OPS_TOKEN,
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["tenant"] == "cli"
    assert printed["policy"]["hosts"] == [{"pattern": "api.example.com", "ports": None, "schemes": ["https"]}]
    assert printed["policy"]["addresses"] == [{"network": "127.0.0.1/32", "ports": [web.port]}]
    done = toolpool(replica, "get", "--tenant", "cli", token=OPS_TOKEN)
    assert done.returncode == 0 and json.loads(done.stdout) == printed
    done = toolpool(replica, "set", "--tenant", "cli", token=OPS_TOKEN)  # neither rules nor --off
    assert done.returncode == 2 and "--off" in done.stderr
    done = toolpool(replica, "set", "--tenant", "cli", "--allow-address", "localhost", token=OPS_TOKEN)
    assert done.returncode == 2 and "egress:" in done.stderr
    done = toolpool(replica, "set", "--tenant", "cli", "--off", token=OPS_TOKEN)
    assert done.returncode == 0 and json.loads(done.stdout) == {"tenant": "cli", "policy": None}


def test_a_policy_survives_a_restart(replica, web):
    set_policy(replica.stub, "durable", {"addresses": [pb.EgressAddressRule(network="127.0.0.1")]})
    before = get_policy(replica.stub, "durable")
    old_port = replica.server.port
    replica.restart()
    assert get_policy(replica.stub, "durable") == before
    local, own = seen(
        fetch(replica, "durable", f"http://127.0.0.1:{web.port}/json", f"http://127.0.0.1:{replica.server.port}/")
    )
    assert local["status"] == 200
    # the new server protects its own port, whatever the old one was
    assert f"port {replica.server.port} is one of the service's own ports" in own["message"], (old_port, own)
