"""The database's disk fills up, or the database is read-only.

Deploys and secret changes then fail clearly (UNAVAILABLE, reason STORAGE_UNAVAILABLE,
a message that says why and that nothing was stored), while tools already deployed
keep running, by version id and by alias, with their tenant's secrets. When the disk
has room again, deploys work again without a restart. The database passes SQLite's
integrity check afterwards.

The full disk is a tmpfs of a few MiB mounted on a fresh temporary directory; the
read-only database is a read-only bind mount of its directory; both are unmounted in
``finally``. A database that turns read-only under a running server cannot be made
with a mount (Linux refuses to remount a filesystem read-only while a file on it is
open for writing), so that case swaps the running store's connection for a read-only
one, which is exactly what SQLite then reports: SQLITE_READONLY.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import grpc
import pytest

from tests.faults import host, support
from tests.faults.support import FaultServer
from tests.integration.harness import auth, make_server
from worker._proto.toolpool.v1 import toolpool_pb2 as pb
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc

SECRET = "stored-before-the-fault"
V1 = {"tools.py": support.TOOLS}
V2 = {"tools.py": support.TOOLS + "\n# version two\n" + "PADDING = 1\n" * 500}


def integrity(db_path: Path) -> None:
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def prepare(stub: pb_grpc.ToolPoolStub) -> str:
    version = support.deploy(stub, "acme", V1, alias="latest").deployed.version_id
    stub.SetSecret(pb.SetSecretRequest(tenant="acme", name="api_key", value=SECRET), metadata=auth(), timeout=10)
    return version


def assert_refused_clearly(error: grpc.RpcError, cause: str) -> None:
    reason = dict(error.trailing_metadata() or ()).get("toolpool-reason")
    assert (error.code(), reason) == (grpc.StatusCode.UNAVAILABLE, "STORAGE_UNAVAILABLE"), (
        f"a write the database cannot take must be refused clearly, got {error.code().name} [{reason}]: "
        f"{error.details()}"
    )
    assert cause in error.details() and "nothing was stored" in error.details(), error.details()


def assert_writes_refused(stub: pb_grpc.ToolPoolStub, cause: str) -> None:
    with pytest.raises(grpc.RpcError) as deploy:
        support.deploy(stub, "acme", V2, alias="latest")
    assert_refused_clearly(deploy.value, cause)
    with pytest.raises(grpc.RpcError) as secret:
        stub.SetSecret(pb.SetSecretRequest(tenant="acme", name="other", value="x" * 4096), metadata=auth(), timeout=10)
    assert_refused_clearly(secret.value, cause)


def assert_deployed_tools_run(stub: pb_grpc.ToolPoolStub, version: str) -> None:
    by_id = support.execute(stub, support.execute_request("acme", "good", version_id=version, args={"n": 1}))
    assert by_id.status == "ok", by_id.describe()
    by_alias = support.execute(stub, support.execute_request("acme", "uses_secret", alias="latest"))
    assert by_alias.status == "ok", by_alias.describe()
    assert by_alias.state["length"] == len(SECRET)
    listed = stub.ListVersions(pb.ListVersionsRequest(tenant="acme"), metadata=auth(), timeout=10)
    assert [v.version_id for v in listed.versions] == [version], "nothing of the refused deploy was stored"


def test_a_full_disk_refuses_deploys_clearly_while_deployed_tools_run(tmp_path):
    host.require_root()
    with host.tmpfs("4m") as disk:
        server = FaultServer(
            support.write_fault_config(tmp_path, db_path=disk / "toolpool.db", pool={"ready_children": 2})
        )
        try:
            with server.channel() as channel:
                stub = pb_grpc.ToolPoolStub(channel)
                version = prepare(stub)
                filler = host.fill(disk)
                assert_writes_refused(stub, "full")
                assert_deployed_tools_run(stub, version)
                assert server.alive()
                filler.unlink()
                assert support.deploy(stub, "acme", V2, alias="latest").deployed.version_id != version
            assert server.terminate() == 0
        finally:
            server.kill()
        integrity(disk / "toolpool.db")


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGKILL"])
def test_a_server_restarted_on_a_full_disk_serves_what_was_deployed(tmp_path, stop):
    host.require_root()
    with host.tmpfs("4m") as disk:
        config = support.write_fault_config(tmp_path, db_path=disk / "toolpool.db", pool={"ready_children": 2})
        first = FaultServer(config)
        try:
            with first.channel() as channel:
                version = prepare(pb_grpc.ToolPoolStub(channel))
            if stop == "SIGTERM":
                assert first.terminate() == 0
            else:
                first.sigkill()
        finally:
            first.kill()
        filler = host.fill(disk)
        second = FaultServer(config)  # must start: refusing to would stop every tenant's tools
        try:
            with second.channel() as channel:
                stub = pb_grpc.ToolPoolStub(channel)
                assert_deployed_tools_run(stub, version)
                assert_writes_refused(stub, "full")
                filler.unlink()
                assert support.deploy(stub, "acme", V2, alias="latest").WhichOneof("outcome") == "deployed"
            assert second.terminate() == 0
        finally:
            second.kill()
        integrity(disk / "toolpool.db")


def test_a_read_only_database_serves_deployed_tools_and_refuses_writes(tmp_path):
    host.require_root()
    data = tmp_path / "data"
    first = FaultServer(support.write_fault_config(tmp_path / "rw", db_path=data / "toolpool.db"))
    try:
        with first.channel() as channel:
            version = prepare(pb_grpc.ToolPoolStub(channel))
        assert first.terminate() == 0
    finally:
        first.kill()
    with host.read_only_view(data) as view:
        server = FaultServer(support.write_fault_config(tmp_path / "ro", db_path=view / "toolpool.db"))
        try:
            with server.channel() as channel:
                stub = pb_grpc.ToolPoolStub(channel)
                assert_deployed_tools_run(stub, version)
                assert_writes_refused(stub, "read-only")
            assert server.terminate() == 0
        finally:
            server.kill()
    integrity(data / "toolpool.db")


def test_a_database_that_turns_read_only_under_a_running_server(tmp_path):
    server = make_server(tmp_path, pool={"ready_children": 2})
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = pb_grpc.ToolPoolStub(channel)
            version = prepare(stub)
            store = server.store
            with store._lock:  # the fault: from now on SQLite answers SQLITE_READONLY to writes
                store._db.close()
                store._db = sqlite3.connect(
                    f"file:{store.path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None
                )
            assert_writes_refused(stub, "read-only")
            assert_deployed_tools_run(stub, version)
    finally:
        server.stop(grace_s=5)
    integrity(tmp_path / "toolpool.db")
