"""The server as a process: persistence across restarts, graceful drain on SIGTERM,
no orphaned processes, and the client re-sending a bundle a restarted replica lost."""

from __future__ import annotations

import json
import threading
import time

import grpc
import psutil
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.integration.harness import ORCH_TOKEN, TOOLS, ServerProcess, auth, deploy, execute, reason, write_config
from worker._proto.toolpool.v1 import toolpool_pb2 as pb
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc
from worker.client import ToolpoolClient

pytestmark = pytest.mark.serial  # restarts and drains, whose timings load stretches


def descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def assert_all_gone(processes: list[psutil.Process], timeout: float = 10) -> None:
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    assert not alive, f"orphaned processes: {[(p.pid, p.name()) for p in alive]}"


def test_deployments_aliases_and_secrets_survive_a_restart(tmp_path):
    config = write_config(tmp_path)
    first = ServerProcess(config)
    try:
        with grpc.insecure_channel(first.target) as channel:
            stub = pb_grpc.ToolPoolStub(channel)
            version = deploy(stub, "acme", alias="latest").deployed.version_id
            stub.SetSecret(
                pb.SetSecretRequest(tenant="acme", name="api_key", value="persisted-secret"), metadata=auth()
            )
        first.terminate()
        assert first.wait(30) == 0
    finally:
        first.kill()

    second = ServerProcess(config)
    try:
        with grpc.insecure_channel(second.target) as channel:
            stub = pb_grpc.ToolPoolStub(channel)
            assert execute(stub, "acme", "start_function", version_id=version).result.status == pb.OK
            by_alias = execute(stub, "acme", "secret_length", alias="latest", args={"name": "api_key"})
            assert by_alias.version_id == version
            assert json.loads(by_alias.result.state_json)["length"] == len("persisted-secret")
        second.terminate()
        assert second.wait(30) == 0
        assert "persisted-secret" not in second.stderr()
    finally:
        second.kill()


def test_sigterm_drains_in_flight_calls_refuses_new_ones_and_leaves_no_process(tmp_path):
    server = ServerProcess(write_config(tmp_path, drain={"grace_s": 10.0}))
    try:
        channel = grpc.insecure_channel(server.target)
        stub = pb_grpc.ToolPoolStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        version = deploy(stub, "acme").deployed.version_id
        children = descendants(server.proc.pid)
        assert children, "the pool's template and ready children run under the server"

        results: list[object] = []

        def in_flight() -> None:
            try:
                results.append(execute(stub, "acme", "slow", version_id=version, args={"ms": 1500}, timeout=5).result)
            except grpc.RpcError as error:
                results.append(error)

        threads = [threading.Thread(target=in_flight) for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(0.4)  # both calls are running in the pool
        children = descendants(server.proc.pid)
        sent = time.monotonic()
        server.terminate()

        deadline = time.monotonic() + 3
        while True:
            status = health.Check(health_pb2.HealthCheckRequest(service="toolpool.v1.ToolPool"), timeout=2).status
            if status == health_pb2.HealthCheckResponse.NOT_SERVING:
                break
            assert time.monotonic() < deadline, "health never went NOT_SERVING"
            time.sleep(0.02)
        refused = None
        try:
            execute(stub, "acme", "start_function", version_id=version, timeout=2)
        except grpc.RpcError as error:
            refused = error
        assert refused is not None and refused.code() is grpc.StatusCode.UNAVAILABLE
        assert reason(refused) == "DRAINING"

        for t in threads:
            t.join(15)
        assert [getattr(r, "status", r) for r in results] == [pb.OK, pb.OK], results
        assert server.wait(15) == 0
        print(f"\ndrain: exited {time.monotonic() - sent:.2f} s after SIGTERM with 2 calls in flight")
        assert_all_gone(children)
        channel.close()
    finally:
        server.kill()


def test_a_call_longer_than_the_grace_gets_a_verdict_and_the_server_still_exits(tmp_path):
    server = ServerProcess(write_config(tmp_path, drain={"grace_s": 0.5}))
    try:
        with grpc.insecure_channel(server.target) as channel:
            stub = pb_grpc.ToolPoolStub(channel)
            version = deploy(stub, "acme").deployed.version_id
            outcome: list[object] = []

            def long_call() -> None:
                try:
                    outcome.append(execute(stub, "acme", "spin", version_id=version, timeout=10).result.status)
                except grpc.RpcError as error:
                    outcome.append(error.code())

            thread = threading.Thread(target=long_call)
            thread.start()
            time.sleep(0.3)
            children = descendants(server.proc.pid)
            started = time.monotonic()
            server.terminate()
            thread.join(15)
            assert outcome, "the in-flight call never got an answer"
            assert outcome[0] != grpc.StatusCode.DEADLINE_EXCEEDED
            assert server.wait(15) == 0
            assert time.monotonic() - started < 5
            assert_all_gone(children)
    finally:
        server.kill()


def test_the_client_resends_a_bundle_the_replica_lost(tmp_path):
    """A replica restarted without its database (a new pod): the client re-deploys."""
    config = write_config(tmp_path)
    first = ServerProcess(config)
    port = first.port
    files = {"tools.py": TOOLS}
    try:
        with ToolpoolClient(first.target, ORCH_TOKEN) as client:
            version = client.deploy("acme", files, alias="latest").version_id
            first.proc.kill()  # SIGKILL: no drain
            first.wait(30)
            for suffix in ("", "-wal", "-shm"):
                (tmp_path / f"toolpool.db{suffix}").unlink(missing_ok=True)
            second = ServerProcess(config, "--port", str(port))
            try:
                result = client.execute("acme", "add", version_id=version, args={"a": 2, "b": 3}, timeout=10)
                assert result.status.value == "ok" and result.action == {"content": "5"}
                # The alias was lost too; the client re-sends with the alias.
                assert client.execute("acme", "start_function", alias="latest", timeout=10).status.value == "ok"
            finally:
                second.terminate()
                second.wait(30)
                second.kill()
    finally:
        first.kill()
