"""The store contract: every test runs against SQLite and against a real PostgreSQL.

What any backend must do: atomic deploys, tenant-keyed rows, versions last stored first,
secrets sealed at rest (no value in the database's bytes) and opened only with the right
key, tenant and name, egress policies with a growing updated_ms, change events after
commits, numbered migrations applied once, and a clear refusal of what it cannot open.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.store.conftest import KEY
from worker.store import ALIAS, EGRESS, SECRETS, Change, OverQuota, StoreStartupError
from worker.store.crypto import new_key_text
from worker.store.migrations import LATEST, MIGRATIONS

SECRET_VALUE = "sk-live-canary-0123456789abcdef"


# -- versions and aliases ----------------------------------------------------------------


def test_a_deploy_stores_the_version_and_moves_the_alias(store):
    assert store.put_version("acme", "v1", {"a.py": "x = 1\n"}, ("f",), alias="latest")
    assert not store.put_version("acme", "v1", {"a.py": "x = 1\n"}, ("f",), alias="latest")  # same content
    assert store.resolve_alias("acme", "latest") == "v1"
    store.put_version("acme", "v2", {"b.py": "y = 2\n"}, ("g", "h"), alias="latest")
    assert store.resolve_alias("acme", "latest") == "v2"
    v1 = store.get_version("acme", "v1")
    assert (v1.files, v1.functions, v1.aliases) == ({"a.py": "x = 1\n"}, ("f",), ())
    assert store.get_version("acme", "v2").aliases == ("latest",)
    assert store.get_version("acme", "nope") is None


def test_versions_are_listed_last_stored_first_with_their_aliases(store):
    for n in (3, 1, 2):
        store.put_version("acme", f"v{n}", {"a.py": str(n)}, ("f",), alias="stable" if n == 1 else None)
    listed = store.list_versions("acme")
    assert [v.version_id for v in listed] == ["v2", "v1", "v3"]
    assert [v.aliases for v in listed] == [(), ("stable",), ()]


def test_versions_past_the_limit_prune_the_oldest_that_no_alias_names(store):
    store.put_version("acme", "v1", {"a.py": "1"}, ("f",), alias="stable", keep_versions=3)
    for n in range(2, 7):
        store.put_version("acme", f"v{n}", {"a.py": str(n)}, ("f",), keep_versions=3)
    store.put_version("globex", "g1", {"a.py": "g"}, ("f",), keep_versions=1)
    # v1 stays (an alias names it), then the last stored: v6, v5; v2..v4 were pruned, oldest first.
    assert [v.version_id for v in store.list_versions("acme")] == ["v6", "v5", "v1"]
    assert store.get_version("acme", "v2") is None
    assert [v.version_id for v in store.list_versions("globex")] == ["g1"]  # another tenant's untouched


def test_a_deploy_is_refused_when_aliases_name_every_version_past_the_limit(store):
    store.put_version("acme", "v1", {"a.py": "1"}, ("f",), alias="a", keep_versions=2)
    store.put_version("acme", "v2", {"a.py": "2"}, ("f",), alias="b", keep_versions=2)
    with pytest.raises(OverQuota) as refused:
        store.put_version("acme", "v3", {"a.py": "3"}, ("f",), alias="c", keep_versions=2)
    assert (refused.value.what, refused.value.count, refused.value.limit) == ("versions", 3, 2)
    assert store.get_version("acme", "v3") is None and store.resolve_alias("acme", "c") is None  # nothing stored
    store.put_version("acme", "v3", {"a.py": "3"}, ("f",), alias="a", keep_versions=2)  # moving "a" frees v1
    assert [v.version_id for v in store.list_versions("acme")] == ["v3", "v2"]


def test_aliases_and_secrets_past_their_limits_are_refused_and_nothing_is_stored(store):
    store.put_version("acme", "v1", {"a.py": "1"}, ("f",), alias="a", max_aliases=1)
    store.put_version("acme", "v1", {"a.py": "1"}, ("f",), alias="a", max_aliases=1)  # moving one is fine
    with pytest.raises(OverQuota) as refused:
        store.put_version("acme", "v2", {"a.py": "2"}, ("f",), alias="b", max_aliases=1)
    assert refused.value.what == "aliases" and store.get_version("acme", "v2") is None
    store.set_secret("acme", "k1", "v", max_secrets=2)
    store.set_secret("acme", "k2", "v", max_secrets=2)
    store.set_secret("acme", "k2", "replaced", max_secrets=2)  # replacing one is fine
    with pytest.raises(OverQuota) as refused:
        store.set_secret("acme", "k3", "v", max_secrets=2)
    assert (refused.value.what, refused.value.count) == ("secrets", 3)
    assert store.secret_names("acme") == ["k1", "k2"]


def test_rows_are_keyed_by_tenant(store):
    store.put_version("acme", "v1", {"a.py": ""}, ("f",), alias="latest")
    store.set_secret("acme", "k", "acme-value")
    store.set_egress_policy("acme", {"hosts": []})
    assert store.get_version("globex", "v1") is None
    assert store.resolve_alias("globex", "latest") is None
    assert store.secrets_for_call("globex") == {}
    assert store.list_versions("globex") == [] and store.secret_names("globex") == []
    assert store.egress_policy("globex") is None
    assert not store.delete_secret("globex", "k")
    assert store.secrets_for_call("acme") == {"k": "acme-value"}


def test_a_failed_deploy_transaction_leaves_nothing_behind(backend, store):
    store.put_version("acme", "v1", {"a.py": ""}, ("f",), alias="latest")
    # The alias must name a stored version (a foreign key): make the alias write fail
    # after the version row was inserted in the same transaction.
    if backend.kind == "sqlite":
        backend.sql("CREATE TRIGGER no_alias BEFORE UPDATE ON aliases BEGIN SELECT RAISE(ABORT, 'boom'); END")
    else:
        backend.sql(
            "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$"
        )
        backend.sql("CREATE TRIGGER no_alias BEFORE UPDATE ON aliases FOR EACH ROW EXECUTE FUNCTION boom()")
    with pytest.raises(Exception, match="boom"):
        store.put_version("acme", "v2", {"b.py": ""}, ("g",), alias="latest")
    assert store.get_version("acme", "v2") is None
    assert store.resolve_alias("acme", "latest") == "v1"


def test_concurrent_writers_do_not_lose_rows(store):
    def write_many(tenant: str) -> None:
        for i in range(25):
            store.put_version(tenant, f"v{i}", {"a.py": str(i)}, ("f",), alias="latest")
            store.set_secret(tenant, f"k{i}", "v")

    threads = [threading.Thread(target=write_many, args=(f"t{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n in range(4):
        assert len(store.list_versions(f"t{n}")) == 25
        assert len(store.secret_names(f"t{n}")) == 25
        assert store.resolve_alias(f"t{n}", "latest") == "v24"


def test_everything_survives_reopening(backend, store):
    store.put_version("acme", "v1", {"a.py": "x = 1\n"}, ("f",), alias="latest")
    store.set_secret("acme", "k", "value")
    store.set_egress_policy("acme", {"hosts": [{"pattern": "api.example.com"}]})
    store.close()
    again = backend.open()
    try:
        assert again.resolve_alias("acme", "latest") == "v1"
        assert again.get_version("acme", "v1").files == {"a.py": "x = 1\n"}
        assert again.secrets_for_call("acme") == {"k": "value"}
        assert again.egress_policy("acme").policy == {"hosts": [{"pattern": "api.example.com"}]}
    finally:
        again.close()


# -- egress policies ---------------------------------------------------------------------


def test_an_egress_policy_has_one_row_per_tenant_with_a_growing_updated_ms(store):
    assert store.egress_policy("acme") is None
    policy = {"hosts": [{"pattern": "api.example.com"}]}
    stamps = [
        store.set_egress_policy("acme", policy),
        store.set_egress_policy("acme", None),
        store.set_egress_policy("acme", policy),
    ]
    assert stamps == sorted(set(stamps))  # strictly growing, even within one millisecond
    store.set_egress_policy("acme", None)
    off = store.egress_policy("acme")
    assert off.policy is None and off.updated_ms > stamps[-1]


# -- secrets -----------------------------------------------------------------------------


def test_secrets_are_set_replaced_listed_and_deleted(store):
    assert store.set_secret("acme", "b", "one")
    assert not store.set_secret("acme", "b", "two")
    assert store.set_secret("acme", "a", "ünïcode ✓")
    assert store.secret_names("acme") == ["a", "b"]
    assert store.secrets_for_call("acme") == {"a": "ünïcode ✓", "b": "two"}
    assert store.delete_secret("acme", "b") and not store.delete_secret("acme", "b")
    assert store.secrets_for_call("acme") == {"a": "ünïcode ✓"}


def test_no_copy_of_the_database_holds_a_secret_value(backend, store):
    store.set_secret("acme", "api_key", SECRET_VALUE)
    store.set_secret("acme", "api_key", SECRET_VALUE + "-replaced")  # the old sealed row is gone too
    store.put_version("acme", "v1", {"a.py": "x = 1\n"}, ("f",), alias="latest")
    raw = backend.raw_bytes()
    assert b"api_key" in raw and b"acme" in raw  # the tenant's rows are there...
    assert SECRET_VALUE.encode() not in raw  # ...but never a value
    [(key_id,)] = backend.sql("SELECT key_id FROM secrets")
    assert key_id == store.keyring.primary.key_id


def test_a_row_copied_to_another_tenant_or_name_does_not_decrypt(backend, store):
    store.set_secret("acme", "api_key", SECRET_VALUE)
    store.close()
    backend.sql(
        "INSERT INTO secrets (tenant, name, plaintext, key_id, wrapped_key, ciphertext, updated_ms) "
        "SELECT 'globex', name, plaintext, key_id, wrapped_key, ciphertext, updated_ms FROM secrets"
    )
    with pytest.raises(StoreStartupError) as refused:
        backend.open()
    assert refused.value.setting == "secrets.key"
    assert "globex" in str(refused.value) and SECRET_VALUE not in str(refused.value)
    backend.sql("DELETE FROM secrets WHERE tenant = 'globex'")
    backend.sql("UPDATE secrets SET name = 'other_name'")
    with pytest.raises(StoreStartupError, match="cannot decrypt"):
        backend.open()


def test_a_wrong_key_stops_the_start_with_a_message_that_says_so(backend, store):
    store.set_secret("acme", "api_key", SECRET_VALUE)
    store.close()
    with pytest.raises(StoreStartupError) as refused:
        backend.open(key=new_key_text())
    message = str(refused.value)
    assert message.startswith("secrets.key: the configured keys cannot decrypt the stored secrets"), message
    assert "is not configured" in message
    # The same id with different key bytes: the wrapped data key does not open.
    key_id = KEY.split(":")[0]
    with pytest.raises(StoreStartupError, match="does not open with the key"):
        backend.open(key=f"{key_id}:{new_key_text().split(':')[1]}")


def test_rotation_rewraps_every_row_under_the_primary_key(backend, store):
    for n in range(5):
        store.set_secret(f"t{n}", "k", f"value-{n}")
    store.close()
    new = new_key_text()
    both = backend.open(key=f"{new},{KEY}")  # the new key first: it seals from now on
    try:
        assert both.secrets_for_call("t1") == {"k": "value-1"}  # old rows open with the old key
        assert both.rotate_key() == (5, 0)
        assert both.rotate_key() == (0, 5)  # nothing left to do
    finally:
        both.close()
    assert {row[0] for row in backend.sql("SELECT key_id FROM secrets")} == {new.split(":")[0]}
    only_new = backend.open(key=new)
    try:
        assert [only_new.secrets_for_call(f"t{n}") for n in range(5)] == [{"k": f"value-{n}"} for n in range(5)]
    finally:
        only_new.close()
    with pytest.raises(StoreStartupError):
        backend.open(key=KEY)  # the old key alone no longer opens them


# -- change events -------------------------------------------------------------------------


def test_committed_changes_are_told_to_subscribers(store):
    seen: list[Change] = []
    store.subscribe(seen.append)
    store.put_version("acme", "v1", {"a.py": ""}, ("f",))  # no alias: versions never change, no event
    assert seen == []
    store.put_version("acme", "v1", {"a.py": ""}, ("f",), alias="latest")
    assert Change(ALIAS, "acme") in seen  # told before the write returns: this replica reads its own writes
    store.set_secret("acme", "k", "v")
    assert Change(SECRETS, "acme") in seen
    seen.clear()
    store.delete_secret("acme", "k")
    assert Change(SECRETS, "acme") in seen
    store.set_egress_policy("globex", None)
    assert Change(EGRESS, "globex") in seen
    # PostgreSQL's listener also hands this replica its own NOTIFYs; nothing else comes.
    assert set(seen) <= {Change(ALIAS, "acme"), Change(SECRETS, "acme"), Change(EGRESS, "globex")}


# -- migrations ----------------------------------------------------------------------------


def test_the_schema_is_at_the_latest_migration_applied_once(backend, store):
    assert store.schema_version() == LATEST
    if backend.kind == "postgresql":
        rows = backend.sql("SELECT version, name FROM schema_migrations ORDER BY version")
        assert rows == [(m.number, m.name) for m in MIGRATIONS]


def test_replicas_starting_together_migrate_once(backend):
    opened, errors = [], []

    def start() -> None:
        try:
            opened.append(backend.open())
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors, errors
        assert {s.schema_version() for s in opened} == {LATEST}
        if backend.kind == "postgresql":
            assert backend.sql("SELECT count(*) FROM schema_migrations") == [(LATEST,)]
    finally:
        for s in opened:
            s.close()


def test_a_schema_newer_than_the_code_is_refused_naming_both_versions(backend, store):
    store.close()
    if backend.kind == "sqlite":
        backend.sql("PRAGMA user_version = 99")
    else:
        backend.sql("INSERT INTO schema_migrations VALUES (99, 'from the future', 0)")
    with pytest.raises(StoreStartupError) as refused:
        backend.open()
    assert refused.value.setting == "store.url"
    assert f"schema is version 99, newer than this toolpool's {LATEST}" in str(refused.value)


def test_plaintext_rows_of_an_older_version_are_sealed_in_place_at_first_start(backend):
    # A database as version 2 of the schema left it: secrets in plaintext.
    if backend.kind == "sqlite":
        path = backend.url[len("sqlite://") :]
        Path(path).parent.mkdir(parents=True)
        for migration in MIGRATIONS[:2]:
            for statement in migration.sqlite.split(";"):
                if statement.strip():
                    backend.sql(statement)
        backend.sql("PRAGMA user_version = 2")
    else:
        backend.sql(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_ms BIGINT NOT NULL)"
        )
        for migration in MIGRATIONS[:2]:
            for statement in migration.postgresql.split(";"):
                if statement.strip():
                    backend.sql(statement)
            backend.sql("INSERT INTO schema_migrations VALUES (?, ?, 0)", (migration.number, migration.name))
    backend.sql("INSERT INTO secrets VALUES ('acme', 'api_key', ?, 1)", (SECRET_VALUE,))
    assert SECRET_VALUE.encode() in backend.raw_bytes()
    store = backend.open()
    try:
        assert store.schema_version() == LATEST
        assert store.secrets_for_call("acme") == {"api_key": SECRET_VALUE}
    finally:
        store.close()
    [(plain, key_id)] = backend.sql("SELECT plaintext, key_id FROM secrets")
    assert (plain, key_id) == (None, KEY.split(":")[0])
    assert SECRET_VALUE.encode() not in backend.raw_bytes()
