"""Many replicas on loopback, balanced by the client with gRPC round_robin.

* Killing a replica (SIGKILL) under load loses no call: a call that had not started
  anywhere is retried elsewhere (by gRPC transparently, or by the client on a server
  refusal or a pick failure) and succeeds; a call that had started on the killed
  replica gets a clear verdict, ToolpoolCallError(may_have_run=True). The replica comes
  back on the same port with an empty database; the client re-sends the bundle it
  lacks, and throughput recovers.
* A rolling restart (SIGTERM, one replica at a time) under load fails no call.

Loose on time by design (2 shared vCPUs): rates are compared within one run, and only
"recovered to more than half" is asserted.
"""

from __future__ import annotations

import time

import grpc
import psutil
import pytest

from tests.integration.harness import ORCH_TOKEN, TOOLS
from tests.replicas.fleet import Load, free_port, start_fleet
from worker.client import ToolpoolClient, replicas_target

pytestmark = pytest.mark.serial  # a fleet of server processes, killed and restarted under load

FILES = {"tools.py": TOOLS}
WINDOW_S = 2.5


@pytest.fixture()
def fleet(tmp_path):
    replicas = start_fleet(tmp_path)
    try:
        yield replicas
    finally:
        for replica in replicas:
            replica.stop()


def served_calls(replica, run: int) -> set[str]:
    return {e["call_id"] for e in replica.log_entries(run) if e.get("event") == "call_finished"}


def test_sigkill_loses_no_call_and_throughput_recovers(fleet):
    client = ToolpoolClient(replicas_target([r.address for r in fleet]), ORCH_TOKEN)
    # Deployed once: it lands on one replica; the others get it re-sent on demand.
    version = client.deploy("acme", FILES).version_id
    load = Load(client, version).start()
    try:
        load.wait_for(lambda: all(served_calls(r, 0) for r in fleet), timeout=90)  # all three in rotation
        begin = time.monotonic()
        time.sleep(WINDOW_S)
        before = load.rate(begin, time.monotonic())

        victim = fleet[1]
        kill_sent = time.monotonic()
        below = victim.kill()
        killed_at = time.monotonic()
        _, left = psutil.wait_procs(below, timeout=10)
        assert not left, f"the killed replica's sandbox outlived it: {left}"
        time.sleep(1.0)
        victim.start(wipe=True)  # rescheduled: same address, empty database
        load.wait_for(lambda: len(served_calls(victim, 1)) >= 5, timeout=90)
        begin = time.monotonic()
        time.sleep(WINDOW_S)
        after = load.rate(begin, time.monotonic())
    finally:
        outcomes = load.stop()
        client.close()

    failed = [o for o in outcomes if o.status != "ok"]
    # Every failure is a call that was on the victim's connection when it died: sent
    # before the kill, failed by it, and finished nowhere. The client cannot know how
    # far the victim got with it (its log shows some had started their tool, others
    # were still being authorized or admitted), so the verdict is may_have_run=True.
    finished_anywhere = set().union(*(served_calls(r, run) for r in fleet for run in range(len(r.logs))))
    for outcome in failed:
        assert outcome.error is not None, f"{outcome.call_id}: tool status {outcome.status}"
        assert outcome.error.may_have_run, f"{outcome.call_id}: {outcome.error} claims it did not run"
        assert outcome.error.code is grpc.StatusCode.UNAVAILABLE, outcome.error
        assert outcome.started < killed_at and outcome.ended >= kill_sent, outcome
        assert outcome.call_id not in finished_anywhere
    # At most one per caller; every call sent after the kill, or not sent to the victim,
    # succeeded (retried on another replica where it had not started).
    assert len(failed) <= load.threads
    assert len(outcomes) - len(failed) > 100
    # The restarted replica lacked the version: the client re-sent it there.
    assert any(e.get("method") == "Deploy" for e in victim.log_entries(1))
    assert after > 0.5 * before, f"throughput {after:.1f}/s after the restart vs {before:.1f}/s before"


def test_a_rolling_restart_fails_no_call(fleet):
    client = ToolpoolClient(replicas_target([r.address for r in fleet]), ORCH_TOKEN)
    version = client.deploy("acme", FILES).version_id
    load = Load(client, version).start()
    try:
        load.wait_for(lambda: all(served_calls(r, 0) for r in fleet), timeout=90)
        for replica in fleet:
            assert replica.terminate() == 0  # drained: exit 0
            replica.start(wipe=True)
            load.wait_for(lambda: len(served_calls(replica, 1)) >= 5, timeout=90)  # back in rotation
    finally:
        outcomes = load.stop()
        client.close()
    failed = [(o.call_id, o.status, o.error) for o in outcomes if o.status != "ok"]
    assert not failed, failed
    assert len(outcomes) > 100


def test_a_replica_that_is_down_is_skipped(tmp_path):
    replicas = start_fleet(tmp_path, count=1)
    try:
        nobody = f"127.0.0.1:{free_port()}"  # nothing listens there
        with ToolpoolClient(replicas_target([nobody, replicas[0].address]), ORCH_TOKEN) as client:
            version = client.deploy("acme", FILES).version_id
            statuses = {
                client.execute("acme", "start_function", version_id=version, timeout=10).status.value for _ in range(10)
            }
        assert statuses == {"ok"}
    finally:
        replicas[0].stop()


def test_connections_recycled_by_max_connection_age_fail_no_call(tmp_path):
    # The manifests recycle connections (so clients re-resolve DNS); GOAWAY under load
    # must be invisible to callers.
    replicas = start_fleet(tmp_path, count=2, grpc={"max_connection_age_s": 0.5})
    try:
        client = ToolpoolClient(replicas_target([r.address for r in replicas]), ORCH_TOKEN)
        version = client.deploy("acme", FILES).version_id
        load = Load(client, version, threads=4).start()
        try:
            time.sleep(3.0)
        finally:
            outcomes = load.stop()
            client.close()
    finally:
        for replica in replicas:
            replica.stop()
    failed = [(o.call_id, o.status, o.error) for o in outcomes if o.status != "ok"]
    assert not failed, failed
    assert len(outcomes) > 20
