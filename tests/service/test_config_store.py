"""Configuration (file < environment < flags, validated, logged without tokens or keys),
the store settings, and what the SQLite backend adds to the store contract (WAL, a
private file, a private key file beside it)."""

from __future__ import annotations

import json
import stat

import pytest

from worker.config import ConfigError, hash_token, load_config
from worker.store import open_store
from worker.store.crypto import new_key_text

KEY = new_key_text()


def write(tmp_path, text: str):
    path = tmp_path / "toolpool.toml"
    path.write_text(text)
    return path


CLIENT = '[[clients]]\nname = "orch"\ntoken = "tok-123456"\ntenants = ["acme"]\n'


def test_later_sources_win_and_defaults_fill_the_rest(tmp_path):
    path = write(tmp_path, "port = 6000\n[admission]\nmax_queue = 10\nmax_concurrent = 6\n" + CLIENT)
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
        (
            "",
            {"TOOLPOOL_POOL_MODE": "warm"},
            "pool.mode: must be one of fresh, reuse, got 'warm' (from environment TOOLPOOL_POOL_MODE)",
        ),
        ("[admission]\nmax_concurrent = 2\nreserved_for_start = 2\n", {}, "admission.reserved_for_start"),
        ('[tls]\ncert_file = "a.pem"\n', {}, "tls.cert_file and tls.key_file"),
        ("port = \n", {}, "config file"),
        ('[[clients]]\nname = "x"\ntenants = ["a"]\n', {}, "exactly one of token"),
        ('[[clients]]\nname = "x"\ntenants = ["a"]\ntoken_env = "NOPE"\n', {}, "NOPE is not set"),
        ('[[clients]]\nname = "x"\ntenants = []\ntoken = "t"\n', {}, "clients[0].tenants"),
        ('[[clients]]\nname = "x"\ntenants = ["a"]\ntoken_sha256 = "zz"\n', {}, "64 hex digits"),
    ],
)
def test_bad_values_are_refused_naming_the_key_and_source(tmp_path, text, env, message):
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text + ("" if "clients" in text else CLIENT)), env={"HOME": str(tmp_path), **env})
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


# -- store settings ---------------------------------------------------------------------
# The store itself has its own contract suite on both backends: tests/store/.


def test_the_store_defaults_to_sqlite_beside_the_state_and_its_url_can_be_given(tmp_path):
    env = {"HOME": str(tmp_path)}
    assert load_config(None, env=env).store_url == f"sqlite://{tmp_path}/.local/state/toolpool/toolpool.db"
    url = "postgresql://toolpool:hunter2-password@db.internal:5432/toolpool"
    config = load_config(None, env={**env, "TOOLPOOL_STORE_URL": url, "TOOLPOOL_SECRETS_KEY": KEY})
    assert config.store_url == url
    described = json.dumps(config.describe())
    assert "hunter2-password" not in described and KEY.split(":")[1] not in described
    assert "postgresql://toolpool:***@db.internal:5432/toolpool" in described
    assert load_config(None, env=env, overrides={"store.url": "sqlite:///x/y.db"}).store_url == "sqlite:///x/y.db"


@pytest.mark.parametrize(
    "env, message",
    [
        ({"TOOLPOOL_STORE_URL": "mysql://db/toolpool"}, "store.url: unknown scheme 'mysql'"),
        ({"TOOLPOOL_STORE_URL": "sqlite://relative.db"}, "store.url: 'sqlite://relative.db' is not a SQLite URL"),
        ({"TOOLPOOL_STORE_URL": "postgresql://h/db?bogus=1"}, "store.url: not a valid PostgreSQL URL"),
        ({"TOOLPOOL_STORE_URL": "postgresql://db/toolpool"}, "secrets.key: a PostgreSQL store needs"),
        ({"TOOLPOOL_SECRETS_KEY": "c2hvcnQ="}, "secrets.key: key 1 is 5 bytes; a key must be base64 of exactly 32"),
        ({"TOOLPOOL_SECRETS_KEY": "not base64!"}, "secrets.key: key 1 is not base64"),
        ({"TOOLPOOL_SECRETS_KEY": KEY + "," + KEY}, "secrets.key: two keys share the id"),
        ({"TOOLPOOL_SECRETS_KEY": KEY, "TOOLPOOL_SECRETS_KEY_FILE": "/k"}, "give one or the other"),
    ],
)
def test_bad_store_settings_are_refused_naming_the_setting(tmp_path, env, message):
    with pytest.raises(ConfigError) as error:
        load_config(None, env={"HOME": str(tmp_path), **env})
    assert message in str(error.value)
    assert "(from environment" in str(error.value) or "give one" in str(error.value) or "needs" in str(error.value)


def test_the_embedded_default_is_wal_private_with_a_private_key_file_beside_it(tmp_path):
    config = load_config(None, env={"HOME": str(tmp_path)})
    store = open_store(config)
    try:
        assert store.journal_mode() == "wal"
        store.set_secret("acme", "k", "value")
    finally:
        store.close()
    key_file = config.db_path.parent / "secrets.key"
    for path in (config.db_path, key_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    again = open_store(load_config(None, env={"HOME": str(tmp_path)}))  # the same key file, read back
    try:
        assert again.secrets_for_call("acme") == {"k": "value"}
    finally:
        again.close()
