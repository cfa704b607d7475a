"""The database may fail; calls must not (issue 15, item 5), on a real PostgreSQL that the
test stops and starts.

One replica (an in-process server) on its own PostgreSQL server. With the database
stopped: Execute of a cached alias and version keeps answering within its deadline,
with the secret and the egress policy as last seen; writes and read RPCs answer
UNAVAILABLE/STORAGE_UNAVAILABLE within 2 s, end to end through the project's client;
``toolpool_store_up`` is 0 and one ``store_down`` line is logged. When the database
returns the replica reconnects by itself, ``store_up`` is logged once, the gauge is 1,
and writes work again. Also: a change made while the replica was away from the database
is seen after the reconnect (cached rows are dropped, since notifications were lost).
"""

from __future__ import annotations

import logging
import time

import grpc
import psycopg
import pytest

from tests.integration.harness import ORCH_TOKEN, TOOLS, write_config
from tests.integration.test_egress_service import OPS_CLIENT, OPS_TOKEN
from tests.pg import PostgresServer
from worker.client import ToolpoolCallError, ToolpoolClient
from worker.config import load_config
from worker.server import ToolpoolServer
from worker.store.crypto import new_key_text

pytestmark = pytest.mark.serial  # its own PostgreSQL, stopped and started; answers timed to the second

SECRET = "sk-outage-canary-77a1b2c3"
POLICY = {"hosts": [{"pattern": "api.crm.example"}]}


@pytest.fixture()
def database():
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture()
def replica(database, tmp_path):
    config_path = write_config(tmp_path, pool={"ready_children": 2})
    with config_path.open("a") as config:
        config.write(OPS_CLIENT)
    env = {"HOME": str(tmp_path), "TOOLPOOL_STORE_URL": database.url(), "TOOLPOOL_SECRETS_KEY": new_key_text()}
    server = ToolpoolServer(load_config(config_path, env=env))
    server.start()
    try:
        yield server
    finally:
        server.stop(grace_s=5)


def store_up(server) -> float:
    return server.metrics.registry.get_sample_value("toolpool_store_up")


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def served_from_cache(server, call) -> bool:
    """True when ``call()`` succeeds with at least two cache hits of mutable rows (the
    alias, and the secrets or the policy) and no miss."""
    before = server.service.cache_info()["rows"]
    ok = call()
    after = server.service.cache_info()["rows"]
    return (
        ok and after.get("misses", 0) == before.get("misses", 0) and after.get("hits", 0) >= before.get("hits", 0) + 2
    )


def events(caplog, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == name]


def assert_refused_within(seconds: float, call) -> ToolpoolCallError:
    started = time.monotonic()
    with pytest.raises(ToolpoolCallError) as refused:
        call()
    took = time.monotonic() - started
    assert (refused.value.code, refused.value.reason) == (grpc.StatusCode.UNAVAILABLE, "STORAGE_UNAVAILABLE"), (
        refused.value
    )
    assert took < seconds, f"refused after {took:.2f} s"
    return refused.value


def test_cached_calls_run_and_writes_fail_fast_while_the_database_is_stopped(database, replica, caplog):
    caplog.set_level(logging.INFO, logger="toolpool.store")
    target = f"127.0.0.1:{replica.port}"
    with ToolpoolClient(target, OPS_TOKEN) as ops, ToolpoolClient(target, ORCH_TOKEN) as client:
        version = ops.deploy("acme", {"tools.py": TOOLS}, alias="latest").version_id
        ops.set_secret("acme", "api_key", SECRET)
        ops.set_egress_policy("acme", POLICY)
        # The calls that fill this replica's caches. A row loaded while a notification of
        # this test's own writes is still on its way is not cached (it may be stale), so
        # call until the calls are served from the cache.
        assert client.execute("acme", "start_function", version_id=version).status.value == "ok"
        wait_for(
            lambda: served_from_cache(
                replica,
                lambda: (
                    client.execute("acme", "secret_length", alias="latest", args={"name": "api_key"}).status.value
                    == "ok"
                ),
            ),
            5,
            "the alias, the secret and the policy to be served from the cache",
        )
        assert store_up(replica) == 1.0

        database.stop()
        wait_for(lambda: store_up(replica) == 0.0, 5, "toolpool_store_up to drop to 0")
        for _ in range(5):
            started = time.monotonic()
            result = client.execute(
                "acme", "secret_length", alias="latest", args={"name": "api_key"}, deadline_ms=1000, timeout=3
            )
            assert result.status.value == "ok" and result.state["length"] == len(SECRET)
            assert time.monotonic() - started < 1.0
            assert (
                client.execute("acme", "start_function", version_id=version, deadline_ms=1000, timeout=3).status.value
                == "ok"
            )
        assert replica.service._egress_for_call("acme").hosts[0].pattern == "api.crm.example"  # as last seen
        assert_refused_within(2.0, lambda: ops.set_secret("acme", "other", "x"))
        assert_refused_within(2.0, lambda: ops.deploy("acme", {"tools.py": TOOLS + "\n# two\n"}, alias="latest"))
        assert_refused_within(2.0, lambda: ops.set_egress_policy("acme", None))
        assert_refused_within(2.0, lambda: ops.list_versions("acme"))  # read RPCs read the store
        error = assert_refused_within(2.0, lambda: client.execute("acme", "start_function", alias="never-seen"))
        assert not error.may_have_run
        assert len(events(caplog, "store_down")) == 1

        database.start()
        wait_for(lambda: store_up(replica) == 1.0, 10, "the replica to reconnect by itself")
        assert ops.set_secret("acme", "other", "x") is True
        assert [v.version_id for v in ops.list_versions("acme")] == [version]
    assert len(events(caplog, "store_down")) == 1 and len(events(caplog, "store_up")) == 1


def test_a_change_made_while_the_replica_was_away_is_seen_after_it_reconnects(database, replica):
    target = f"127.0.0.1:{replica.port}"

    def secret_length() -> int:
        return client.execute("acme", "secret_length", alias="latest", args={"name": "api_key"}).state["length"]

    def served_from_cache_before() -> bool:
        return served_from_cache(replica, lambda: secret_length() == 6)

    with ToolpoolClient(target, ORCH_TOKEN) as client:
        client.deploy("acme", {"tools.py": TOOLS}, alias="latest")
        client.set_secret("acme", "api_key", "before")
        # The alias and the secret are cached once the set_secret's own notification is in.
        wait_for(served_from_cache_before, 5, "the alias and the secret to be served from the cache")
        # Another writer changes the secret, straight in the database: its notification
        # reaches nobody, so this replica goes on with what it cached.
        with psycopg.connect(database.url(), autocommit=True) as admin:
            sealed = replica.store.keyring.seal("acme", "api_key", "after-the-outage")
            admin.execute(
                "UPDATE secrets SET key_id = %s, wrapped_key = %s, ciphertext = %s",
                (sealed.key_id, sealed.wrapped_key, sealed.ciphertext),
            )
            assert secret_length() == 6
            # The replica loses its connections, reconnects, and drops its cached rows.
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'toolpool' AND pid <> pg_backend_pid()"
            )
        wait_for(
            lambda: secret_length() == len("after-the-outage"),
            5,
            "the replica to drop its cached secrets after reconnecting",
        )
