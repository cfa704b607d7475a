"""The server is killed with SIGKILL mid-deploy and mid-call, then restarted.

What a caller sees at the kill: a call in flight fails with UNAVAILABLE and no
toolpool-reason (the connection broke; the server never answered), which
``worker.client`` reports with ``may_have_run=True``. What survives: every deploy and
every secret the server acknowledged, byte for byte, and the alias at the last
acknowledged version or at the one whose deploy was in flight; the database passes
``PRAGMA integrity_check`` as the crash left it. What does not survive: no process of
the old server (its template and children die with it, by PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from pathlib import Path

import grpc

from tests.faults import support
from tests.faults.support import FaultServer
from tests.integration.harness import ORCH_TOKEN, auth
from worker._proto.toolpool.v1 import toolpool_pb2 as pb
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc
from worker.client import ToolpoolCallError, ToolpoolClient


class Ledger:
    """What the server acknowledged, and what was in flight when it died."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.versions: dict[str, dict[str, str]] = {}  # acknowledged version -> files
        self.alias_order: list[str] = []  # versions deployed with alias "latest", in order
        self.alias_acked = -1  # index in alias_order of the last acknowledged one
        self.secrets: dict[str, str] = {}  # acknowledged secret -> value


def deploy_until_killed(stub: pb_grpc.ToolPoolStub, ledger: Ledger, round_: int) -> None:
    for i in range(10_000):
        files = {"tools.py": support.TOOLS + f"\n# round {round_} deploy {i}\n"}
        with ledger.lock:
            ledger.alias_order.append(f"pending-{round_}-{i}")
            index = len(ledger.alias_order) - 1
        try:
            version = support.deploy(stub, "acme", files, alias="latest", timeout=10).deployed.version_id
        except grpc.RpcError:
            return  # the server died under this deploy: it may or may not be stored
        with ledger.lock:
            ledger.versions[version] = files
            ledger.alias_order[index] = version
            ledger.alias_acked = index
        if i % 3 == 0:
            name, value = f"s{round_}_{i}", f"value-{round_}-{i}-" + "v" * 16
            try:
                stub.SetSecret(pb.SetSecretRequest(tenant="acme", name=name, value=value), metadata=auth(), timeout=10)
            except grpc.RpcError:
                return
            with ledger.lock:
                ledger.secrets[name] = value


def call_until_killed(stub: pb_grpc.ToolPoolStub, version: str, answers: list[support.Answer]) -> None:
    for _ in range(10_000):
        request = support.execute_request("acme", "nap", version_id=version, args={"ms": 300}, deadline_ms=3000)
        answer = support.execute(stub, request, timeout=10)
        answers.append(answer)
        if not answer.is_verdict:
            return


def assert_intact(stub: pb_grpc.ToolPoolStub, ledger: Ledger) -> None:
    stored = {
        v.version_id
        for v in stub.ListVersions(pb.ListVersionsRequest(tenant="acme"), metadata=auth(), timeout=30).versions
    }
    missing = set(ledger.versions) - stored
    assert not missing, f"{len(missing)} acknowledged deployments were lost"
    for version, files in ledger.versions.items():
        got = stub.GetVersion(
            pb.GetVersionRequest(tenant="acme", version_id=version, include_sources=True), metadata=auth(), timeout=10
        )
        assert {f.name: f.source for f in got.files} == files
    if ledger.alias_acked >= 0:
        latest = stub.GetVersion(pb.GetVersionRequest(tenant="acme", alias="latest"), metadata=auth(), timeout=10)
        allowed = [v for v in ledger.alias_order[ledger.alias_acked :] if not v.startswith("pending-")]
        in_flight = any(v.startswith("pending-") for v in ledger.alias_order[ledger.alias_acked + 1 :])
        assert latest.version.version_id in allowed or (in_flight and latest.version.version_id in stored), (
            "the alias must point at the last acknowledged deploy, or at the one in flight at the kill"
        )
    names = set(stub.ListSecretNames(pb.ListSecretNamesRequest(tenant="acme"), metadata=auth(), timeout=10).names)
    assert set(ledger.secrets) <= names, "an acknowledged secret was lost"
    some_version = next(iter(ledger.versions))
    for name, value in list(ledger.secrets.items())[-3:]:
        request = support.execute_request("acme", "uses_secret", version_id=some_version, args={"name": name})
        answer = support.execute(stub, request)
        assert answer.status == "ok" and answer.state["length"] == len(value), answer.describe()


def check_database(db_path: Path) -> None:
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_a_server_killed_mid_deploy_and_mid_call_restarts_with_everything_it_acknowledged(tmp_path):
    # Every acknowledged version must survive: keep more than the test deploys (none pruned).
    config = support.write_fault_config(tmp_path, pool={"ready_children": 2}, upload={"versions": 100_000})
    ledger = Ledger()
    base_version = ""
    for round_ in range(2):
        server = FaultServer(config)
        try:
            with server.channel() as channel:
                stub = pb_grpc.ToolPoolStub(channel)
                if ledger.versions:
                    assert_intact(stub, ledger)
                base_version = support.deploy(stub, "acme", {"tools.py": support.TOOLS}).deployed.version_id
                ledger.versions[base_version] = {"tools.py": support.TOOLS}
                answers: list[support.Answer] = []
                threads = [threading.Thread(target=deploy_until_killed, args=(stub, ledger, round_))]
                threads += [
                    threading.Thread(target=call_until_killed, args=(stub, base_version, answers)) for _ in range(2)
                ]
                client_outcome: list[object] = []

                def long_call() -> None:
                    with ToolpoolClient(server.target, ORCH_TOKEN) as client:
                        try:
                            client_outcome.append(
                                client.execute("acme", "nap", version_id=base_version, args={"ms": 3000}, timeout=10)
                            )
                        except ToolpoolCallError as error:
                            client_outcome.append(error)

                threads.append(threading.Thread(target=long_call))
                for t in threads:
                    t.start()
                time.sleep(1.5)
                processes = support.tree(server.pid)
                assert processes, "the pool's processes run under the server"
                server.sigkill()
                for t in threads:
                    t.join(30)
            support.assert_all_gone(processes)
            # The call that was in flight: no answer from the server, and the client says it may have run.
            cut_off = [a for a in answers if not a.is_verdict]
            assert cut_off and all(a.code == "UNAVAILABLE" and a.reason is None for a in cut_off), [
                a.describe() for a in cut_off
            ]
            assert all(a.status == "ok" for a in answers if a.is_verdict)
            assert len(client_outcome) == 1 and isinstance(client_outcome[0], ToolpoolCallError), client_outcome
            assert client_outcome[0].may_have_run is True
        finally:
            server.kill()
        check_database(tmp_path / "toolpool.db")  # as the crash left it, before any restart
    assert len(ledger.versions) > 4, "the deployer barely ran; the test proved little"
    print(f"\n{len(ledger.versions)} acknowledged versions, {len(ledger.secrets)} secrets survived two SIGKILLs")
    server = FaultServer(config)
    try:
        with server.channel() as channel:
            assert_intact(pb_grpc.ToolPoolStub(channel), ledger)
        assert server.terminate() == 0
    finally:
        server.kill()
    check_database(tmp_path / "toolpool.db")
