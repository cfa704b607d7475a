"""Configuration (file < environment < flags, validated, logged without tokens) and the
SQLite store (WAL, atomic deploys, tenant-keyed rows)."""

from __future__ import annotations

import json
import sqlite3
import stat
import threading

import pytest

from worker.config import ConfigError, hash_token, load_config
from worker.store import Store


def write(tmp_path, text: str):
    path = tmp_path / "toolpool.toml"
    path.write_text(text)
    return path


CLIENT = '[[clients]]\nname = "orch"\ntoken = "tok-123456"\ntenants = ["acme"]\n'


def test_later_sources_win_and_defaults_fill_the_rest(tmp_path):
    path = write(tmp_path, 'port = 6000\n[admission]\nmax_queue = 10\nmax_concurrent = 6\n' + CLIENT)
    env = {"HOME": str(tmp_path), "TOOLPOOL_ADMISSION_MAX_QUEUE": "20", "TOOLPOOL_PORT": "7000"}
    config = load_config(path, env=env, overrides={"port": 8000, "host": None})
    assert config.port == 8000  # flag over environment over file
    assert config.admission_max_queue == 20  # environment over file
    assert config.admission_max_concurrent == 6  # file over default
    assert config.admission_tenant_concurrency == 3  # derived: half of max_concurrent
    assert config.host == "127.0.0.1"  # default
    assert config.db_path == tmp_path / ".local/state/toolpool/toolpool.db"


@pytest.mark.parametrize(
    "text, env, message",
    [
        ("port = 70000\n", {}, "port: must be in [0, 65535], got 70000 (from file"),
        ("bogus = 1\n", {}, "bogus: unknown setting"),
        ("", {"TOOLPOOL_POOL_MODE": "warm"}, "pool.mode: must be one of fresh, reuse, got 'warm' "
                                              "(from environment TOOLPOOL_POOL_MODE)"),
        ("[admission]\nmax_concurrent = 2\nreserved_for_start = 2\n", {}, "admission.reserved_for_start"),
        ("[tls]\ncert_file = \"a.pem\"\n", {}, "tls.cert_file and tls.key_file"),
        ("port = \n", {}, "config file"),
        ('[[clients]]\nname = "x"\ntenants = ["a"]\n', {}, "exactly one of token"),
        ('[[clients]]\nname = "x"\ntenants = ["a"]\ntoken_env = "NOPE"\n', {}, "NOPE is not set"),
        ('[[clients]]\nname = "x"\ntenants = []\ntoken = "t"\n', {}, "clients[0].tenants"),
        ('[[clients]]\nname = "x"\ntenants = ["a"]\ntoken_sha256 = "zz"\n', {}, "64 hex digits"),
    ],
)
def test_bad_values_are_refused_naming_the_key_and_source(tmp_path, text, env, message):
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text + ("" if "clients" in text else CLIENT)),
                    env={"HOME": str(tmp_path), **env})
    assert message in str(error.value)


def test_tokens_from_every_source_are_kept_as_digests_and_never_described(tmp_path):
    text = CLIENT + (
        '[[clients]]\nname = "env-ref"\ntoken_env = "ORCH_TOKEN"\ntenants = ["*"]\n'
        f'[[clients]]\nname = "hashed"\ntoken_sha256 = "{hash_token("hashed-token")}"\ntenants = ["b"]\n'
    )
    env = {"HOME": str(tmp_path), "ORCH_TOKEN": "from-env-123", "TOOLPOOL_TOKEN": "plain-env-456"}
    config = load_config(write(tmp_path, text), env=env)
    assert [c.name for c in config.clients] == ["orch", "env-ref", "hashed", "env"]
    assert config.clients[1].token_sha256 == hash_token("from-env-123")
    described = json.dumps(config.describe())
    for secret in ("tok-123456", "from-env-123", "plain-env-456", hash_token("tok-123456")):
        assert secret not in described
    assert "tok-123456" not in repr(config)
    assert not config.dev_token_generated


def test_without_clients_a_private_development_token_is_made_once(tmp_path):
    first = load_config(None, env={"HOME": str(tmp_path)})
    token_file = tmp_path / ".local/state/toolpool/dev-token"
    assert first.dev_token_generated and token_file.exists()
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    second = load_config(None, env={"HOME": str(tmp_path)})
    assert first.clients[0].token_sha256 == second.clients[0].token_sha256
    assert first.clients[0].allows("any-tenant")


# -- store ------------------------------------------------------------------------------


def test_store_is_wal_private_and_survives_reopening(tmp_path):
    path = tmp_path / "db" / "toolpool.db"
    store = Store(path)
    assert store.journal_mode() == "wal"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.put_version("acme", "v1", {"a.py": "x = 1\n"}, ("f",), alias="latest")
    assert store.set_secret("acme", "k", "value")
    store.close()
    again = Store(path)
    assert again.resolve_alias("acme", "latest") == "v1"
    assert again.get_version("acme", "v1").files == {"a.py": "x = 1\n"}
    assert again.secrets_for_call("acme") == {"k": "value"}
    again.close()


def test_rows_are_keyed_by_tenant(tmp_path):
    store = Store(tmp_path / "t.db")
    store.put_version("acme", "v1", {"a.py": ""}, ("f",), alias="latest")
    store.set_secret("acme", "k", "acme-value")
    assert store.get_version("globex", "v1") is None
    assert store.resolve_alias("globex", "latest") is None
    assert store.secrets_for_call("globex") == {}
    assert store.list_versions("globex") == [] and store.secret_names("globex") == []
    assert not store.delete_secret("globex", "k")
    assert store.secrets_for_call("acme") == {"k": "acme-value"}


def test_a_failed_deploy_transaction_leaves_nothing_behind(tmp_path):
    store = Store(tmp_path / "t.db")
    store.put_version("acme", "v1", {"a.py": ""}, ("f",), alias="latest")
    # Make the alias write fail after the version row was inserted in the same transaction.
    store._db.execute("CREATE TRIGGER no_alias BEFORE UPDATE ON aliases BEGIN SELECT RAISE(ABORT, 'boom'); END")
    with pytest.raises(sqlite3.IntegrityError):
        store.put_version("acme", "v2", {"b.py": ""}, ("g",), alias="latest")
    assert store.get_version("acme", "v2") is None
    assert store.resolve_alias("acme", "latest") == "v1"


def test_concurrent_writers_do_not_lose_rows(tmp_path):
    store = Store(tmp_path / "t.db")

    def write_many(tenant: str) -> None:
        for i in range(50):
            store.put_version(tenant, f"v{i}", {"a.py": str(i)}, ("f",), alias="latest")
            store.set_secret(tenant, f"k{i}", "v")

    threads = [threading.Thread(target=write_many, args=(f"t{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n in range(4):
        assert len(store.list_versions(f"t{n}")) == 50
        assert len(store.secret_names(f"t{n}")) == 50
