"""Opening the store: what `toolpool serve` says and does when it cannot, and the
PostgreSQL-only promise that another replica hears of a change within a second.

Each bad input is a clear start-up error that names the setting, and a non-zero exit
(2 for a bad configuration, 5 for a store that cannot be opened as configured), with no
traceback.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from tests.integration.harness import REPO, write_config
from tests.replicas.fleet import free_port
from worker.config import load_config
from worker.store import ALIAS, EGRESS, SECRETS, Change, StoreStartupError, open_store
from worker.store.crypto import new_key_text

pytestmark = pytest.mark.system  # servers on SQLite and PostgreSQL


def serve(tmp_path, **env: str) -> subprocess.CompletedProcess:
    config = write_config(tmp_path)
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", "serve", "--config", str(config)],
        cwd=REPO,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_refused(run: subprocess.CompletedProcess, code: int, *fragments: str) -> None:
    assert run.returncode == code, (run.returncode, run.stderr[-2000:])
    for fragment in fragments:
        assert fragment in run.stderr, run.stderr[-2000:]
    assert "Traceback" not in run.stderr


def test_a_malformed_store_url_is_a_configuration_error(tmp_path):
    run = serve(tmp_path, TOOLPOOL_STORE_URL="postgresq://db/toolpool")
    assert_refused(run, 2, "store.url: unknown scheme 'postgresq'", "(from environment TOOLPOOL_STORE_URL)")


def test_a_key_of_the_wrong_length_is_refused_at_start_up(tmp_path):
    run = serve(tmp_path, TOOLPOOL_SECRETS_KEY="dG9vIHNob3J0")
    assert_refused(run, 2, "secrets.key: key 1 is 9 bytes; a key must be base64 of exactly 32 bytes")


def test_an_unreachable_database_is_given_a_bounded_wait_then_refused(tmp_path):
    url = f"postgresql://toolpool:pw-not-logged@127.0.0.1:{free_port()}/toolpool"
    started = time.monotonic()
    run = serve(
        tmp_path, TOOLPOOL_STORE_URL=url, TOOLPOOL_SECRETS_KEY=new_key_text(), TOOLPOOL_STORE_CONNECT_TIMEOUT_S="2"
    )
    took = time.monotonic() - started
    assert_refused(run, 5, "store.url: cannot reach the database at postgresql://toolpool:***@127.0.0.1", "after 2 s")
    assert "pw-not-logged" not in run.stderr + run.stdout
    assert took < 60


def test_a_key_that_cannot_decrypt_the_stored_secrets_stops_the_start(tmp_path, postgres_url):
    env = {"HOME": str(tmp_path), "TOOLPOOL_STORE_URL": postgres_url, "TOOLPOOL_SECRETS_KEY": new_key_text()}
    store = open_store(load_config(None, env=env))
    store.set_secret("acme", "api_key", "value")
    store.close()
    run = serve(tmp_path, TOOLPOOL_STORE_URL=postgres_url, TOOLPOOL_SECRETS_KEY=new_key_text())
    assert_refused(run, 5, "secrets.key: the configured keys cannot decrypt the stored secrets")


def test_a_database_still_starting_is_waited_for(tmp_path):
    from tests.pg import PostgresServer

    late = PostgresServer()  # initdb'd, not started yet
    try:
        env = {
            "HOME": str(tmp_path),
            "TOOLPOOL_STORE_URL": late.url(),
            "TOOLPOOL_SECRETS_KEY": new_key_text(),
            "TOOLPOOL_STORE_CONNECT_TIMEOUT_S": "30",
        }
        starter = threading.Timer(1.5, late.start)
        starter.start()
        store = open_store(load_config(None, env=env))
        starter.join()
        assert store.is_up()
        store.close()
    finally:
        late.destroy()


def test_another_replica_on_postgresql_is_told_of_each_change_within_a_second(tmp_path, postgres_url):
    env = {"HOME": str(tmp_path), "TOOLPOOL_STORE_URL": postgres_url, "TOOLPOOL_SECRETS_KEY": new_key_text()}
    store, other = open_store(load_config(None, env=env)), open_store(load_config(None, env=env))
    try:
        seen: list[Change] = []
        other.subscribe(seen.append)
        for change, write in (
            (Change(ALIAS, "acme"), lambda: store.put_version("acme", "v", {}, (), alias="a")),
            (Change(SECRETS, "acme"), lambda: store.set_secret("acme", "k", "v")),
            (Change(EGRESS, "acme"), lambda: store.set_egress_policy("acme", None)),
        ):
            written = time.monotonic()
            write()
            while change not in seen:
                assert time.monotonic() - written < 1.0, f"{change} not heard by the other replica within 1 s"
                time.sleep(0.01)
    finally:
        store.close()
        other.close()


def test_open_store_names_the_setting_for_a_missing_key_file(tmp_path):
    env = {"HOME": str(tmp_path), "TOOLPOOL_SECRETS_KEY_FILE": str(tmp_path / "absent.key")}
    with pytest.raises(StoreStartupError) as refused:
        open_store(load_config(None, env=env))
    assert str(refused.value).startswith("secrets.key_file: cannot read")
