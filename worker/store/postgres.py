"""The fleet's store: PostgreSQL through psycopg 3 and psycopg_pool. ``postgresql://...``.

Every replica of a fleet points at the same database, so a version deployed, an alias
moved, a secret set or a policy changed through one replica is what every other replica
reads. The interface, the sealing of secrets and the change events are
worker/store/base.py's; the schema and its migrations are worker/store/migrations.py's.

Connections:

* **a bounded pool** (``store.pool_size``) for queries. Each query runs in its own
  transaction with a statement timeout and a lock timeout of ``store.timeout_ms``, and
  waits at most that long for a connection; TCP keepalives and ``tcp_user_timeout`` end a
  connection whose peer vanished. So a query fails with ``StorageUnavailable`` within
  about ``store.timeout_ms`` (plus one retry on a fresh connection when the first turned
  out to be dead, waiting within that time for a reconnect under way), never hangs.
* **one listener connection**, which LISTENs on ``toolpool_changes`` and is the
  replica's view of the database's health. Every write NOTIFYs in its own transaction
  (delivered at commit) which kind of row of which tenant changed; the listener hands
  each to the store's subscribers (the service's caches). It also runs ``SELECT 1``
  every second. When it fails the replica marks the database down
  (``toolpool_store_up`` 0, one log line ``store_down``), closes the pool (queries then
  fail at once, and the pool does not retry in a loop), and retries the connection
  every ``RETRY_S``. When it connects again it LISTENs, opens a fresh pool, and only
  then tells subscribers to drop every cached mutable row (notifications sent while it
  was away are lost), marks the database up and logs ``store_up`` once.

At start-up (``open``) the database gets ``store.connect_timeout_s`` to answer (a
database still starting is retried); past that the replica refuses to start with a
``StoreStartupError`` naming ``store.url``. Migrations run under
``pg_advisory_lock(MIGRATION_LOCK)``, so replicas starting together migrate once.

Trust: the URL comes from the operator; its password never reaches a log line
(``redact_url``). Rows read back are trusted to be what this code wrote, except secrets,
which are opened with authenticated encryption (crypto.py).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from worker.store.base import (
    ALIAS,
    CHANGE_KINDS,
    EGRESS,
    SECRETS,
    Change,
    OverQuota,
    SecretRow,
    StorageUnavailable,
    Store,
    StoredEgressPolicy,
    StoredVersion,
    StoreStartupError,
    now_ms,
)
from worker.store.crypto import Keyring, Sealed
from worker.store.migrations import MIGRATION_LOCK, SchemaTooNew, pending
from worker.store.urls import redact_url

log = logging.getLogger("toolpool.store")

_T = TypeVar("_T")
CHANNEL = "toolpool_changes"
RETRY_S = 0.5  # between connection attempts while the database is away
HEARTBEAT_S = 1.0  # the listener's SELECT 1 when no notification arrives
MIGRATION_TIMEOUT_MS = 120_000  # migrations (and waiting for another replica's) may take longer than a query

_VERSION_COLUMNS = (
    "v.version_id, v.files_json, v.functions_json, v.created_ms, "
    "coalesce(array_agg(a.alias ORDER BY a.alias) FILTER (WHERE a.alias IS NOT NULL), '{}') "
    "FROM versions v LEFT JOIN aliases a ON a.tenant = v.tenant AND a.version_id = v.version_id "
)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


class PostgresStore(Store):
    def __init__(
        self, url: str, keyring: Keyring, *, pool_size: int = 4, timeout_ms: int = 1500, connect_timeout_s: float = 30.0
    ):
        super().__init__(keyring)
        self.url = redact_url(url)
        self._conninfo = url
        self._pool_size = pool_size
        self._timeout_s = timeout_ms / 1000
        self._connect_timeout_s = connect_timeout_s
        self._params: dict[str, Any] = {
            "autocommit": True,
            "application_name": "toolpool",
            "connect_timeout": max(2, round(self._timeout_s)),  # libpq's minimum is 2 s
            "options": f"-c statement_timeout={timeout_ms} -c lock_timeout={timeout_ms} "
            f"-c idle_in_transaction_session_timeout={max(timeout_ms * 4, 10_000)}",
            "tcp_user_timeout": timeout_ms,
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 1,
            "keepalives_count": 3,
        }
        self._state = threading.Lock()
        self._up = False
        self._down_since = 0.0
        self._pool: ConnectionPool | None = None
        self._listener: psycopg.Connection | None = None
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def open(self) -> PostgresStore:
        """Connects (retrying for ``connect_timeout_s``), migrates, starts the listener."""
        listener = self._first_connection()
        try:
            self._migrate(listener)
            listener.execute(f"LISTEN {CHANNEL}")
            pool = self._new_pool()
            pool.open(wait=True, timeout=max(self._connect_timeout_s, 2.0))
        except SchemaTooNew as exc:
            listener.close()
            raise StoreStartupError("store.url", str(exc)) from None
        except (psycopg.Error, PoolTimeout) as exc:
            # Lost while migrating, or refused by it (a role that may not create tables).
            listener.close()
            raise StoreStartupError(
                "store.url", f"the database at {self.url} could not be opened: {_first_line(exc)}"
            ) from None
        with self._state:
            self._listener, self._pool, self._up = listener, pool, True
        self._thread = threading.Thread(target=self._listen, name="toolpool-store-listener", daemon=True)
        self._thread.start()
        return self

    def _first_connection(self) -> psycopg.Connection:
        deadline = time.monotonic() + self._connect_timeout_s
        while True:
            try:
                return self._connect()
            except psycopg.Error as exc:
                if time.monotonic() + RETRY_S >= deadline:
                    raise StoreStartupError(
                        "store.url",
                        f"cannot reach the database at {self.url} after {self._connect_timeout_s:g} s "
                        f"({_first_line(exc)}); check that it runs, its address and the credentials, "
                        "or raise store.connect_timeout_s",
                    ) from None
                time.sleep(RETRY_S)

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(self._conninfo, **self._params)

    def _new_pool(self) -> ConnectionPool:
        return ConnectionPool(
            self._conninfo,
            kwargs=self._params,
            min_size=1,
            max_size=self._pool_size,
            timeout=self._timeout_s,
            open=False,
            name="toolpool-store",
        )

    def _migrate(self, conn: psycopg.Connection) -> None:
        conn.execute(f"SET statement_timeout = {MIGRATION_TIMEOUT_MS}")
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_ms BIGINT NOT NULL)"
            )
            (current,) = _one(conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations"))
            for migration in pending(current, self.url):
                with conn.transaction():
                    for statement in _statements(migration.postgresql):
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_migrations VALUES (%s, %s, %s)",
                        (migration.number, migration.name, now_ms()),
                    )
                log.info(
                    "migrated %s to schema version %d (%s)",
                    self.url,
                    migration.number,
                    migration.name,
                    extra={"event": "store_migrated", "schema_version": migration.number},
                )
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
            conn.execute("RESET statement_timeout")

    def schema_version(self) -> int:
        version: int = self._run(
            lambda c: _one(c.execute("SELECT max(version) FROM schema_migrations"))[0], write=False
        )
        return version

    def close(self) -> None:
        self._closed.set()
        if self._thread is not None:
            self._thread.join(timeout=HEARTBEAT_S + 5)
        with self._state:
            listener, pool, self._listener, self._pool, self._up = self._listener, self._pool, None, None, False
        if listener is not None:
            listener.close()
        if pool is not None:
            pool.close(timeout=1.0)

    def is_up(self) -> bool:
        return self._up

    # -- the listener: notifications and health ---------------------------------------------

    def _listen(self) -> None:
        while not self._closed.is_set():
            listener = self._listener
            if listener is None:
                self._reconnect()
                continue
            try:
                for notification in listener.notifies(timeout=HEARTBEAT_S):
                    self._changed(self._parse(notification.payload))
                listener.execute("SELECT 1")
            except psycopg.Error as exc:
                if not self._closed.is_set():
                    self._lost(exc)

    @staticmethod
    def _parse(payload: str) -> Change:
        try:
            data = json.loads(payload)
            if data.get("kind") in CHANGE_KINDS and isinstance(data.get("tenant"), str):
                return Change(data["kind"], data["tenant"])
        except (ValueError, AttributeError):
            pass
        return Change(None)  # not ours to understand: assume anything changed

    def _lost(self, exc: BaseException) -> None:
        with self._state:
            listener, pool = self._listener, self._pool
            self._listener, self._pool, self._up = None, None, False
            self._down_since = time.monotonic()
        log.error(
            "lost the database at %s (%s): Execute serves from this replica's caches; writes and reads "
            "of the store fail with STORAGE_UNAVAILABLE until it is back",
            self.url,
            _first_line(exc),
            extra={"event": "store_down"},
        )
        if listener is not None:
            listener.close()
        if pool is not None:
            # Not inline: closing waits for the pool's workers, and the listener must go on.
            threading.Thread(target=pool.close, kwargs={"timeout": 1.0}, daemon=True).start()

    def _reconnect(self) -> None:
        try:
            listener = self._connect()
            listener.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error:
            self._closed.wait(RETRY_S)
            return
        pool = self._new_pool()
        pool.open(wait=False)
        with self._state:
            self._listener, self._pool, self._up = listener, pool, True
            away = time.monotonic() - self._down_since
        # Listening again before dropping: a change committed from here on is notified,
        # anything before is covered by the drop.
        self._changed(Change(None))
        log.warning(
            "the database at %s is back after %.1f s: writes work again; cached aliases, secrets and "
            "egress policies were dropped",
            self.url,
            away,
            extra={"event": "store_up", "down_s": round(away, 3)},
        )

    # -- queries ----------------------------------------------------------------------------

    def _run(self, work: Callable[[psycopg.Connection], _T], *, write: bool, change: Change | None = None) -> _T:
        """Runs ``work`` in one transaction on a pooled connection; NOTIFYs ``change`` in it.

        Raises StorageUnavailable within about the store's timeout when the database cannot
        be had. A connection found dead is replaced once; every write is idempotent, so
        running it again on a fresh connection is safe.
        """
        deadline = time.monotonic() + self._timeout_s
        for attempt in (1, 2):
            pool = self._pool if attempt == 1 else self._pool_within(deadline)
            if pool is None:
                raise self._unavailable(write, "it is unreachable")
            used: list[psycopg.Connection] = []
            try:
                with pool.connection(timeout=max(deadline - time.monotonic(), 0.05)) as conn:
                    used.append(conn)
                    with conn.transaction():
                        result = work(conn)
                        if change is not None:
                            conn.execute(
                                "SELECT pg_notify(%s, %s)",
                                (CHANNEL, json.dumps({"kind": change.kind, "tenant": change.tenant})),
                            )
            except (PoolTimeout, PoolClosed):
                raise self._unavailable(write, "it does not answer") from None
            except psycopg.OperationalError as exc:
                dead = bool(used) and used[0].broken
                if dead and attempt == 1 and time.monotonic() < deadline:
                    continue
                log.warning("a %s of the store failed: %s", "write" if write else "read", _first_line(exc))
                raise self._unavailable(write, _first_line(exc)) from None
            if change is not None:
                self._changed(change)  # this replica at once; the others by NOTIFY
            return result
        raise AssertionError("unreachable")

    def _pool_within(self, deadline: float) -> ConnectionPool | None:
        """After a dead connection: the pool, waiting until ``deadline`` for the reconnect
        that the listener, which lost its connection too, has under way."""
        while (pool := self._pool) is None and time.monotonic() < deadline and not self._closed.is_set():
            time.sleep(0.01)
        return pool

    @staticmethod
    def _unavailable(write: bool, cause: str) -> StorageUnavailable:
        if write:
            return StorageUnavailable(f"the database cannot be written ({cause}); nothing was stored")
        return StorageUnavailable(f"the database cannot be read ({cause})")

    # -- versions ---------------------------------------------------------------------------

    def put_version(
        self,
        tenant: str,
        version_id: str,
        files: Mapping[str, str],
        functions: tuple[str, ...],
        alias: str | None = None,
        *,
        keep_versions: int | None = None,
        max_aliases: int | None = None,
    ) -> bool:
        now = now_ms()

        def work(conn: psycopg.Connection) -> bool:
            cursor = conn.execute(
                "INSERT INTO versions (tenant, version_id, files_json, functions_json, created_ms) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (tenant, version_id, json.dumps(dict(files), sort_keys=True), json.dumps(list(functions)), now),
            )
            if alias:
                conn.execute(
                    "INSERT INTO aliases VALUES (%s, %s, %s, %s) ON CONFLICT (tenant, alias) "
                    "DO UPDATE SET version_id = excluded.version_id, updated_ms = excluded.updated_ms",
                    (tenant, alias, version_id, now),
                )
                if max_aliases is not None:
                    (count,) = _one(conn.execute("SELECT count(*) FROM aliases WHERE tenant = %s", (tenant,)))
                    if count > max_aliases:
                        raise OverQuota("aliases", count, max_aliases)
            if keep_versions is not None:
                _prune_versions(conn, tenant, version_id, keep_versions)
            return cursor.rowcount == 1

        return self._run(work, write=True, change=Change(ALIAS, tenant) if alias else None)

    def resolve_alias(self, tenant: str, alias: str) -> str | None:
        row = self._run(
            lambda c: c.execute(
                "SELECT version_id FROM aliases WHERE tenant = %s AND alias = %s", (tenant, alias)
            ).fetchone(),
            write=False,
        )
        return row[0] if row else None

    def get_version(self, tenant: str, version_id: str) -> StoredVersion | None:
        row = self._run(
            lambda c: c.execute(
                f"SELECT {_VERSION_COLUMNS} WHERE v.tenant = %s AND v.version_id = %s GROUP BY v.tenant, v.version_id",
                (tenant, version_id),
            ).fetchone(),
            write=False,
        )
        return None if row is None else self._version(tenant, row)

    def list_versions(self, tenant: str) -> list[StoredVersion]:
        rows = self._run(
            lambda c: c.execute(
                f"SELECT {_VERSION_COLUMNS} WHERE v.tenant = %s GROUP BY v.tenant, v.version_id ORDER BY max(v.seq) DESC",
                (tenant,),
            ).fetchall(),
            write=False,
        )
        return [self._version(tenant, row) for row in rows]

    @staticmethod
    def _version(tenant: str, row: tuple[Any, ...]) -> StoredVersion:
        version_id, files, functions, created, aliases = row
        return StoredVersion(
            tenant=tenant,
            version_id=version_id,
            files=json.loads(files),
            functions=tuple(json.loads(functions)),
            created_ms=created,
            aliases=tuple(aliases),
        )

    # -- secrets ----------------------------------------------------------------------------

    def _put_secret(self, tenant: str, name: str, sealed: Sealed, max_secrets: int | None) -> bool:
        def work(conn: psycopg.Connection) -> bool:
            if max_secrets is not None:
                (count, existed) = _one(
                    conn.execute(
                        "SELECT count(*), count(*) FILTER (WHERE name = %s) FROM secrets WHERE tenant = %s",
                        (name, tenant),
                    )
                )
                if not existed and count >= max_secrets:
                    raise OverQuota("secrets", count + 1, max_secrets)
            (inserted,) = _one(
                conn.execute(
                    "INSERT INTO secrets (tenant, name, plaintext, key_id, wrapped_key, ciphertext, updated_ms) "
                    "VALUES (%s, %s, NULL, %s, %s, %s, %s) ON CONFLICT (tenant, name) DO UPDATE SET plaintext = NULL, "
                    "key_id = excluded.key_id, wrapped_key = excluded.wrapped_key, ciphertext = excluded.ciphertext, "
                    "updated_ms = excluded.updated_ms RETURNING (xmax = 0)",
                    (tenant, name, sealed.key_id, sealed.wrapped_key, sealed.ciphertext, now_ms()),
                )
            )
            return bool(inserted)

        return self._run(work, write=True, change=Change(SECRETS, tenant))

    def delete_secret(self, tenant: str, name: str) -> bool:
        return self._run(
            lambda c: c.execute("DELETE FROM secrets WHERE tenant = %s AND name = %s", (tenant, name)).rowcount == 1,
            write=True,
            change=Change(SECRETS, tenant),
        )

    def secret_names(self, tenant: str) -> list[str]:
        rows = self._run(
            lambda c: c.execute("SELECT name FROM secrets WHERE tenant = %s ORDER BY name", (tenant,)).fetchall(),
            write=False,
        )
        return [r[0] for r in rows]

    def _secret_rows(self, tenant: str | None) -> list[SecretRow]:
        query = "SELECT tenant, name, plaintext, key_id, wrapped_key, ciphertext FROM secrets"
        if tenant is None:
            rows = self._run(lambda c: c.execute(query).fetchall(), write=False)
        else:
            rows = self._run(lambda c: c.execute(query + " WHERE tenant = %s", (tenant,)).fetchall(), write=False)
        return [
            SecretRow(t, n, Sealed(k, bytes(w), bytes(c)) if c is not None else None, p) for t, n, p, k, w, c in rows
        ]

    def _replace_secret_rows(self, rows: list[tuple[SecretRow, Sealed]]) -> int:
        def work(conn: psycopg.Connection) -> int:
            done = 0
            for row, sealed in rows:
                done += conn.execute(
                    "UPDATE secrets SET plaintext = NULL, key_id = %s, wrapped_key = %s, ciphertext = %s "
                    "WHERE tenant = %s AND name = %s AND ciphertext IS NOT DISTINCT FROM %s "
                    "AND plaintext IS NOT DISTINCT FROM %s",
                    (
                        sealed.key_id,
                        sealed.wrapped_key,
                        sealed.ciphertext,
                        row.tenant,
                        row.name,
                        row.sealed.ciphertext if row.sealed else None,
                        row.plaintext,
                    ),
                ).rowcount
            return done

        return self._run(work, write=True)

    # -- egress policies --------------------------------------------------------------------

    def set_egress_policy(self, tenant: str, policy: Mapping[str, Any] | None) -> int:
        text = None if policy is None else json.dumps(dict(policy), sort_keys=True)
        updated: int = self._run(
            lambda c: _one(
                c.execute(
                    "INSERT INTO egress_policies VALUES (%s, %s, %s) ON CONFLICT (tenant) DO UPDATE SET "
                    "policy_json = excluded.policy_json, "
                    "updated_ms = greatest(excluded.updated_ms, egress_policies.updated_ms + 1) RETURNING updated_ms",
                    (tenant, text, now_ms()),
                )
            )[0],
            write=True,
            change=Change(EGRESS, tenant),
        )
        return updated

    def egress_policy(self, tenant: str) -> StoredEgressPolicy | None:
        row = self._run(
            lambda c: c.execute(
                "SELECT policy_json, updated_ms FROM egress_policies WHERE tenant = %s", (tenant,)
            ).fetchone(),
            write=False,
        )
        if row is None:
            return None
        return StoredEgressPolicy(policy=None if row[0] is None else json.loads(row[0]), updated_ms=row[1])


def _prune_versions(conn: psycopg.Connection, tenant: str, keep_id: str, keep: int) -> None:
    """Deletes the tenant's oldest versions that no alias names, so that at most ``keep``
    remain, aliased ones included (``keep_id``, the one just stored, is never pruned);
    OverQuota if aliases name too many for that."""
    aliased = "SELECT version_id FROM aliases WHERE tenant = %s"
    (named,) = _one(conn.execute("SELECT count(DISTINCT version_id) FROM aliases WHERE tenant = %s", (tenant,)))
    pruned = conn.execute(
        f"DELETE FROM versions WHERE tenant = %s AND version_id != %s AND version_id NOT IN ({aliased}) "
        f"AND seq NOT IN (SELECT seq FROM versions WHERE tenant = %s AND version_id NOT IN ({aliased}) "
        f"ORDER BY seq DESC LIMIT %s)",
        (tenant, keep_id, tenant, tenant, tenant, max(keep - named, 0)),
    ).rowcount
    (count,) = _one(conn.execute("SELECT count(*) FROM versions WHERE tenant = %s", (tenant,)))
    if count > keep:
        raise OverQuota("versions", count, keep)
    if pruned:
        log.info("pruned %d versions of tenant %s (keeping %d)", pruned, tenant, keep)


def _one(cursor: psycopg.Cursor[Any]) -> tuple[Any, ...]:
    """The one row of a query that always returns one (an aggregate, RETURNING of an upsert)."""
    row: tuple[Any, ...] | None = cursor.fetchone()
    if row is None:
        raise psycopg.DataError("the query returned no row")
    return row
