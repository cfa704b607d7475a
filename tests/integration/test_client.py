"""worker.client against the real server: sync and asyncio, re-upload, safe retries."""

from __future__ import annotations

import asyncio
import threading
import time

import grpc
import pytest

from tests.integration.harness import BROKEN, ORCH_TOKEN, TOOLS, execute, make_server
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc
from worker.client import AsyncToolpoolClient, CompileFailed, ToolpoolCallError, ToolpoolClient

pytestmark = pytest.mark.serial  # timings of retries and waits

FILES = {"tools.py": TOOLS}


@pytest.fixture(scope="module")
def two_replicas(tmp_path_factory):
    """Two replicas with separate databases, like two pods with no shared state."""
    servers = [make_server(tmp_path_factory.mktemp(f"replica{i}")) for i in range(2)]
    for server in servers:
        server.start()
    yield [f"127.0.0.1:{s.port}" for s in servers]
    for server in servers:
        server.stop(grace_s=5)


def test_deploy_execute_and_secrets(two_replicas):
    with ToolpoolClient(two_replicas[0], ORCH_TOKEN) as client:
        deployment = client.deploy("acme", FILES, alias="latest")
        assert "start_function" in deployment.functions
        assert client.set_secret("acme", "k", "client-secret-value") in (True, False)
        assert "k" in client.list_secret_names("acme")
        result = client.execute(
            "acme", "secret_length", alias="latest", args={"name": "k"}, conversation={"state": {"n": 1}}
        )
        assert result.status.value == "ok"
        assert result.state == {"n": 1, "length": len("client-secret-value")}
        assert client.delete_secret("acme", "k") is True
        assert client.get_version("acme", alias="latest").version.version_id == deployment.version_id
        assert deployment.version_id in [v.version_id for v in client.list_versions("acme")]


def test_compile_errors_raise_with_file_and_line(two_replicas):
    with ToolpoolClient(two_replicas[0], ORCH_TOKEN) as client:
        with pytest.raises(CompileFailed) as failed:
            client.deploy("acme", BROKEN)
        assert any(f == "bad.py" and line > 0 for f, line, _ in failed.value.errors)


def test_a_version_the_replica_lacks_is_re_sent(two_replicas):
    first, second = two_replicas
    with ToolpoolClient(first, ORCH_TOKEN) as deployer:
        version = deployer.deploy("acme", FILES).version_id
    with ToolpoolClient(second, ORCH_TOKEN) as client:
        # Without the bundle the client can only report what is missing.
        with pytest.raises(ToolpoolCallError) as missing:
            client.execute("acme", "start_function", version_id=version)
        assert missing.value.code is grpc.StatusCode.NOT_FOUND
        assert missing.value.reason == "VERSION_NOT_FOUND" and missing.value.may_have_run is False
        # With it, the client deploys it to this replica and calls again.
        result = client.execute("acme", "start_function", version_id=version, bundle=FILES)
        assert result.status.value == "ok"


def test_an_unknown_function_is_not_re_sent(two_replicas):
    with ToolpoolClient(two_replicas[0], ORCH_TOKEN) as client:
        version = client.deploy("acme", FILES).version_id
        with pytest.raises(ToolpoolCallError) as error:
            client.execute("acme", "nope", version_id=version)
        assert error.value.reason == "FUNCTION_NOT_FOUND"


def test_async_client_does_the_same(two_replicas):
    first, second = two_replicas

    async def scenario():
        async with AsyncToolpoolClient(second, ORCH_TOKEN) as client:
            version = (await client.deploy("globex", FILES, alias="latest")).version_id
            result = await client.execute("globex", "add", version_id=version, args={"a": 40, "b": 2})
            assert result.action == {"content": "42"} and result.state["total"] == 42
            assert await client.set_secret("globex", "k", "v-async-secret") in (True, False)
            assert await client.list_secret_names("globex") == ["k"]
            assert await client.delete_secret("globex", "k")
            with pytest.raises(CompileFailed):
                await client.deploy("globex", BROKEN)
        async with AsyncToolpoolClient(first, ORCH_TOKEN) as client:
            results = await asyncio.gather(
                *(client.execute("globex", "start_function", version_id=version, bundle=FILES) for _ in range(3))
            )
            assert [r.status.value for r in results] == ["ok"] * 3

    asyncio.run(scenario())


@pytest.fixture()
def single_slot(tmp_path):
    server = make_server(
        tmp_path, admission={"max_concurrent": 1, "tenant_concurrency": 1, "reserved_for_start": 0, "max_queue": 0}
    )
    server.start()
    yield f"127.0.0.1:{server.port}"
    server.stop(grace_s=5)


def occupy(target: str, version: str, ms: int) -> threading.Thread:
    def run() -> None:
        with grpc.insecure_channel(target) as channel:
            execute(pb_grpc.ToolPoolStub(channel), "acme", "slow", version_id=version, args={"ms": ms}, timeout=10)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.2)
    return thread


def test_resource_exhausted_is_retried_after_the_servers_hint(single_slot):
    with ToolpoolClient(single_slot, ORCH_TOKEN) as client:
        version = client.deploy("acme", FILES).version_id
        holder = occupy(single_slot, version, 500)
        started = time.monotonic()
        result = client.execute("acme", "start_function", version_id=version, timeout=5)
        holder.join()
        assert result.status.value == "ok"
        assert time.monotonic() - started >= 0.1  # it waited for the slot to free, then ran


def test_no_retry_when_the_budget_cannot_cover_the_wait(single_slot):
    with ToolpoolClient(single_slot, ORCH_TOKEN) as client:
        version = client.deploy("acme", FILES).version_id
        holder = occupy(single_slot, version, 1500)
        started = time.monotonic()
        with pytest.raises(ToolpoolCallError) as error:
            client.execute("acme", "start_function", version_id=version, timeout=0.4)
        elapsed = time.monotonic() - started
        holder.join()
        assert error.value.code in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.DEADLINE_EXCEEDED)
        assert error.value.may_have_run is False
        assert elapsed < 0.6
