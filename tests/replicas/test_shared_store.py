"""A fleet on one store, tried as an operator would (issue 15, "How it is checked").

Two replicas on one real PostgreSQL database behind one round-robin client:

* a secret and an alias set once through one replica are seen by 20 of 20 calls, from a
  client that never deployed (so no re-send could have helped);
* an egress policy set on replica 1 reads back from replica 2;
* an alias moved on replica 1 runs on replica 2 within 1.5 s, although replica 2 had the
  old target cached;
* a third replica, started later with an empty state directory, serves at once, secret
  included;
* ``pg_dump`` holds the tenant's rows and no secret value;
* ``toolpool secret rotate-key`` re-wraps every secret while the replicas serve.

And the embedded default: two SQLite replicas behind one round-robin client, an alias
deployed once, 20 of 20 calls run (the client re-sends the bundle where it is missing).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.harness import ORCH_TOKEN, REPO, TOOLS
from tests.integration.test_egress_service import OPS_CLIENT, OPS_TOKEN
from tests.replicas.fleet import Replica, free_port, start_fleet
from worker.client import ToolpoolClient, replicas_target
from worker.store.crypto import new_key_text

SECRET = "sk-fleet-canary-5f1d2e3c4b5a"
ONE = {"tools.py": TOOLS}
TWO = {"tools.py": TOOLS + "\n\ndef which(conv):\n    return 'two'\n"}


@pytest.fixture()
def shared(postgres_server, tmp_path):
    """Two replicas on one fresh PostgreSQL database; yields (replicas, env, url)."""
    url = postgres_server.create_database()
    env = {"TOOLPOOL_STORE_URL": url, "TOOLPOOL_SECRETS_KEY": new_key_text()}
    replicas = [operated(Replica(tmp_path / f"replica{i}", free_port(), env)) for i in range(2)]
    with ThreadPoolExecutor(2) as starting:
        list(starting.map(lambda r: r.start(), replicas))
    try:
        yield replicas, env, url
    finally:
        for replica in replicas:
            replica.stop()


def operated(replica: Replica) -> Replica:
    """The replica with an operator client too (egress policies are set by operators only)."""
    with replica.config.open("a") as config:
        config.write(OPS_CLIENT)
    return replica


def calls_served(replica: Replica) -> int:
    return sum(1 for e in replica.log_entries() if e.get("event") == "call_finished")


def deploys_served(replica: Replica) -> int:
    return sum(1 for e in replica.log_entries() if e.get("method") == "Deploy" and "deployed" in e.get("msg", ""))


def test_a_secret_and_an_alias_set_once_are_seen_by_every_call(shared):
    replicas, _, _ = shared
    target = replicas_target([r.address for r in replicas])
    with ToolpoolClient(replicas[0].address, ORCH_TOKEN) as admin:
        admin.deploy("acme", ONE, alias="latest")
        admin.set_secret("acme", "api_key", SECRET)
    with ToolpoolClient(target, ORCH_TOKEN) as client:  # never deployed: it has nothing to re-send
        results = [
            client.execute("acme", "secret_length", alias="latest", args={"name": "api_key"}, timeout=10)
            for _ in range(20)
        ]
    assert [r.status.value for r in results] == ["ok"] * 20
    assert {r.state["length"] for r in results} == {len(SECRET)}
    assert all(calls_served(r) >= 5 for r in replicas), [calls_served(r) for r in replicas]  # both served
    assert deploys_served(replicas[1]) == 0  # replica 2 never got the bundle: it read the store


def test_an_egress_policy_set_on_one_replica_reads_back_from_the_other(shared):
    replicas, _, _ = shared
    policy = {"hosts": [{"pattern": "api.crm.example"}], "max_requests": 7}
    with (
        ToolpoolClient(replicas[0].address, OPS_TOKEN) as first,
        ToolpoolClient(replicas[1].address, ORCH_TOKEN) as second,
    ):
        assert second.get_egress_policy("acme") is None
        stored = first.set_egress_policy("acme", policy)
        assert second.get_egress_policy("acme") == stored
        assert stored["max_requests"] == 7 and stored["hosts"][0]["pattern"] == "api.crm.example"
        first.set_egress_policy("acme", None)
        assert second.get_egress_policy("acme") is None


def test_an_alias_moved_on_one_replica_runs_on_the_other_within_a_second_and_a_half(shared):
    replicas, _, _ = shared
    with (
        ToolpoolClient(replicas[0].address, ORCH_TOKEN) as first,
        ToolpoolClient(replicas[1].address, ORCH_TOKEN) as second,
    ):
        old = first.deploy("acme", ONE, alias="live").version_id
        # Replica 2 resolves the alias once: it is now in its cache.
        assert second.execute_detailed("acme", "start_function", alias="live", timeout=10).version_id == old
        new = first.deploy("acme", TWO, alias="live").version_id
        moved = time.monotonic()
        while second.execute_detailed("acme", "start_function", alias="live", timeout=10).version_id != new:
            assert time.monotonic() - moved < 1.5, "replica 2 still runs the old version 1.5 s after the move"
            time.sleep(0.02)
        assert time.monotonic() - moved < 1.5
        executed = second.execute_detailed("acme", "which", alias="live", timeout=10)
    assert executed.version_id == new and executed.result.action == {"content": "two"}


def test_a_replica_started_later_on_an_empty_disk_serves_at_once(shared, tmp_path):
    replicas, env, _ = shared
    with ToolpoolClient(replicas[0].address, OPS_TOKEN) as admin:
        version = admin.deploy("acme", ONE, alias="latest").version_id
        admin.set_secret("acme", "api_key", SECRET)
        admin.set_egress_policy("acme", {"hosts": [{"pattern": "api.crm.example"}]})
    late = operated(Replica(tmp_path / "late", free_port(), env))  # as the autoscaler adds one: nothing on its disk
    late.start()
    try:
        with ToolpoolClient(late.address, ORCH_TOKEN) as client:
            result = client.execute("acme", "secret_length", alias="latest", args={"name": "api_key"}, timeout=10)
            assert result.status.value == "ok" and result.state["length"] == len(SECRET)
            assert client.execute("acme", "start_function", version_id=version, timeout=10).status.value == "ok"
            assert client.get_egress_policy("acme")["hosts"][0]["pattern"] == "api.crm.example"
        assert deploys_served(late) == 0
        assert not any(p.name.startswith("toolpool.db") for p in late.directory.iterdir())
    finally:
        late.stop()


def test_pg_dump_holds_the_tenants_rows_and_no_secret_value(shared, postgres_server):
    replicas, _, url = shared
    with ToolpoolClient(replicas[0].address, ORCH_TOKEN) as admin:
        version = admin.deploy("acme", ONE, alias="latest").version_id
        admin.set_secret("acme", "api_key", SECRET)
    dump = postgres_server.pg_dump(url)
    assert version in dump and "api_key" in dump and "acme" in dump
    assert SECRET not in dump


def test_rotate_key_rewraps_every_secret_while_the_replicas_serve(shared, tmp_path):
    replicas, env, _ = shared
    with ToolpoolClient(replicas_target([r.address for r in replicas]), ORCH_TOKEN) as client:
        client.deploy("acme", ONE, alias="latest")
        for n in range(3):
            client.set_secret("acme", f"key{n}", SECRET + str(n))
        new = new_key_text()
        both = {**env, "TOOLPOOL_SECRETS_KEY": f"{new},{env['TOOLPOOL_SECRETS_KEY']}"}
        for replica in replicas:  # every replica learns the new key first, one at a time
            replica.env = both
            assert replica.terminate() == 0
            replica.start()
        rotated = subprocess.run(
            [sys.executable, "-m", "worker.cli", "secret", "rotate-key"],
            cwd=REPO,
            env={**both, "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert rotated.returncode == 0, rotated.stderr
        report = json.loads(rotated.stdout)
        assert (report["rotated"], report["already"], report["primary_key_id"]) == (3, 0, new.split(":")[0])
        result = client.execute("acme", "secret_length", alias="latest", args={"name": "key2"}, timeout=10)
        assert result.status.value == "ok" and result.state["length"] == len(SECRET) + 1
        # The old key can go: a replica holding only the new one opens every row.
        replicas[0].env = {**env, "TOOLPOOL_SECRETS_KEY": new}
        assert replicas[0].terminate() == 0
        replicas[0].start()
        with ToolpoolClient(replicas[0].address, ORCH_TOKEN) as only_new:
            result = only_new.execute("acme", "secret_length", alias="latest", args={"name": "key0"}, timeout=10)
            assert result.status.value == "ok" and result.state["length"] == len(SECRET) + 1


def test_two_sqlite_replicas_run_an_alias_deployed_once_on_every_call(tmp_path):
    replicas = start_fleet(tmp_path, count=2)
    try:
        with ToolpoolClient(replicas_target([r.address for r in replicas]), ORCH_TOKEN) as client:
            client.deploy("acme", ONE, alias="latest")  # lands on one replica only
            results = [client.execute("acme", "start_function", alias="latest", timeout=10) for _ in range(20)]
        assert [r.status.value for r in results] == ["ok"] * 20
        assert all(calls_served(r) >= 5 for r in replicas), [calls_served(r) for r in replicas]
    finally:
        for replica in replicas:
            replica.stop()
