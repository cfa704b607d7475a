"""The embedded store: one SQLite file (WAL) beside one replica. ``sqlite:///PATH``.

SQLite serves one replica: its change events reach only the process that wrote, so two
replicas on two files (or one file) do not see each other's changes; a fleet uses
PostgreSQL (worker/store/postgres.py). The interface, the sealing of secrets and the
change events are worker/store/base.py's.

The file is created with mode 0600 and ``secure_delete`` is on, so a replaced or deleted
row (a secret sealed in place, say) is overwritten, not left in a free page; after
sealing plaintext rows the WAL is checkpointed and truncated, so no copy of the file
holds a secret's value.

When the database cannot be written (its disk is full, it is read-only, locked by another
process, or an I/O error) a write raises ``StorageUnavailable`` after rolling back:
nothing was stored, and reads go on, so tools already deployed keep running. A database
that cannot be opened for writing at start-up (a read-only mount, a full disk) is opened
read-only instead when it already holds this schema, and every later write first tries
to reopen it for writing.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sqlite3
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from worker.store.base import (
    ALIAS,
    EGRESS,
    SECRETS,
    Change,
    OverQuota,
    SecretRow,
    StorageUnavailable,
    Store,
    StoredEgressPolicy,
    StoredVersion,
    now_ms,
)
from worker.store.crypto import Keyring, Sealed
from worker.store.migrations import LATEST, pending

log = logging.getLogger("toolpool.store")

_T = TypeVar("_T")

# SQLite's primary result codes for "this database cannot be written now", and what to
# tell the caller about each. Anything else (a constraint, a bug) propagates unchanged.
_UNWRITABLE = {
    sqlite3.SQLITE_FULL: "its disk is full",
    sqlite3.SQLITE_READONLY: "it is read-only",
    sqlite3.SQLITE_IOERR: "an I/O error",
    sqlite3.SQLITE_CANTOPEN: "it cannot be opened for writing",
    sqlite3.SQLITE_BUSY: "it is locked by another process",
    sqlite3.SQLITE_LOCKED: "it is locked",
}

_OS_CAUSES = {
    errno.EROFS: "it is read-only",
    errno.ENOSPC: "its disk is full",
    errno.EDQUOT: "its disk is full",
    errno.EACCES: "it may not be written",
}


def _unwritable_cause(exc: BaseException) -> str | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(exc, sqlite3.OperationalError) and code is not None:
        return _UNWRITABLE.get(code & 0xFF)
    return None


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


class SQLiteStore(Store):
    """One SQLite connection shared by the server's threads behind a lock.

    Writes are rare (deploys, secrets); reads on the hot path are one indexed row, and
    the service caches them anyway (worker/catalog.py).
    """

    def __init__(self, path: str | Path, keyring: Keyring):
        super().__init__(keyring)
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self._memory = str(path) == ":memory:"
        self._lock = threading.Lock()
        self.read_only = False
        try:
            self._db = self._open_writable()
        except (OSError, sqlite3.OperationalError) as exc:
            if self._memory or not (isinstance(exc, OSError) or _unwritable_cause(exc)):
                raise
            self._db = self._open_read_only(exc)
            self.read_only = True
            log.warning(
                "the database %s cannot be written (%s): serving it read-only; deploys and "
                "secret changes fail until it can be written",
                self.path,
                exc,
            )

    def _open_writable(self) -> sqlite3.Connection:
        if not self._memory:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Secrets live here: create the file private before SQLite opens it.
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        db = sqlite3.connect(
            str(self.path) if not self._memory else ":memory:", check_same_thread=False, isolation_level=None
        )
        try:
            db.execute("PRAGMA busy_timeout=5000")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA secure_delete=ON")  # replaced secrets leave no bytes behind
            self._migrate(db)
        except BaseException:
            db.close()
            raise
        return db

    def _open_read_only(self, cause: BaseException) -> sqlite3.Connection:
        """The database as it is, for reading. Raises ``cause`` unless it holds this schema."""
        uri = "file:" + urllib.parse.quote(str(self.path.resolve())) + "?mode=ro"
        candidates = [uri]
        wal = Path(f"{self.path}-wal")
        if not wal.exists() or wal.stat().st_size == 0:
            # Without a -shm file SQLite cannot read a WAL database it may not write to,
            # unless told the file cannot change; true here, as nothing can write it, and
            # exact, as no WAL holds commits the file lacks.
            candidates.append(uri + "&immutable=1")
        for candidate in candidates:
            try:
                db = sqlite3.connect(candidate, uri=True, check_same_thread=False, isolation_level=None)
            except sqlite3.Error:
                continue
            try:
                (version,) = db.execute("PRAGMA user_version").fetchone()
                if version == LATEST:
                    return db
            except sqlite3.Error:
                pass
            db.close()
        raise cause

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Applies the pending migrations in one transaction: SQLite's write lock keeps two
        processes opening the file together from migrating twice."""
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if not pending(version, str(self.path)):  # a database of this version needs no write to open
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            (version,) = db.execute("PRAGMA user_version").fetchone()  # another process may have done it
            for migration in pending(version, str(self.path)):
                for statement in _statements(migration.sqlite):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version={migration.number}")
                log.info(
                    "migrated %s to schema version %d (%s)",
                    self.path,
                    migration.number,
                    migration.name,
                    extra={"event": "store_migrated", "schema_version": migration.number},
                )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def schema_version(self) -> int:
        with self._lock:
            version: int = self._db.execute("PRAGMA user_version").fetchone()[0]
            return version

    def journal_mode(self) -> str:
        with self._lock:
            mode: str = self._db.execute("PRAGMA journal_mode").fetchone()[0]
            return mode

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Runs ``work`` in one write transaction. Holds the lock.

        All or nothing: any failure rolls back (unless SQLite already did). A database
        that cannot be written raises StorageUnavailable, saying why.
        """
        if self.read_only:
            self._reopen_writable()
        try:
            self._db.execute("BEGIN IMMEDIATE")
            result = work(self._db)
            self._db.execute("COMMIT")
            return result
        except BaseException as exc:
            if self._db.in_transaction:  # SQLite rolls back by itself after SQLITE_FULL, for one
                try:
                    self._db.execute("ROLLBACK")
                except sqlite3.Error:
                    log.exception("rollback failed after: %s", exc)
            if _unwritable_cause(exc) is None:
                raise
            log.error("a write to %s failed (%s): nothing was stored", self.path, exc)
            raise self._unavailable(exc) from None

    def _write_and_tell(self, work: Callable[[sqlite3.Connection], _T], change: Change) -> _T:
        with self._lock:
            result = self._write(work)
        self._changed(change)
        return result

    def _reopen_writable(self) -> None:
        try:
            db = self._open_writable()
        except (OSError, sqlite3.OperationalError) as exc:
            raise self._unavailable(exc) from None
        self._db.close()
        self._db = db
        self.read_only = False
        log.warning("the database %s can be written again", self.path)

    def _unavailable(self, exc: BaseException) -> StorageUnavailable:
        code = getattr(exc, "errno", None)
        cause = _unwritable_cause(exc) or (_OS_CAUSES.get(code) if isinstance(code, int) else None)
        if cause in (None, "an I/O error") and self._disk_full():
            cause = "its disk is full"  # SQLite says I/O error when it cannot even size its -shm file
        cause = cause or "it cannot be opened for writing"
        return StorageUnavailable(f"the database cannot be written ({cause}); nothing was stored")

    def _disk_full(self) -> bool:
        try:
            return not self._memory and os.statvfs(self.path.parent).f_bavail == 0
        except OSError:
            return False

    # -- versions ---------------------------------------------------------------------

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

        def work(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "INSERT OR IGNORE INTO versions VALUES (?, ?, ?, ?, ?)",
                (tenant, version_id, json.dumps(dict(files), sort_keys=True), json.dumps(list(functions)), now),
            )
            if alias:
                db.execute(
                    "INSERT INTO aliases VALUES (?, ?, ?, ?) ON CONFLICT (tenant, alias) "
                    "DO UPDATE SET version_id = excluded.version_id, updated_ms = excluded.updated_ms",
                    (tenant, alias, version_id, now),
                )
                if max_aliases is not None:
                    (count,) = db.execute("SELECT count(*) FROM aliases WHERE tenant = ?", (tenant,)).fetchone()
                    if count > max_aliases:
                        raise OverQuota("aliases", count, max_aliases)
            if keep_versions is not None:
                _prune_versions(db, tenant, version_id, keep_versions)
            return cursor.rowcount == 1

        if not alias:
            with self._lock:
                return self._write(work)
        return self._write_and_tell(work, Change(ALIAS, tenant))

    def resolve_alias(self, tenant: str, alias: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT version_id FROM aliases WHERE tenant = ? AND alias = ?", (tenant, alias)
            ).fetchone()
        return row[0] if row else None

    def get_version(self, tenant: str, version_id: str) -> StoredVersion | None:
        with self._lock:
            row = self._db.execute(
                "SELECT files_json, functions_json, created_ms FROM versions WHERE tenant = ? AND version_id = ?",
                (tenant, version_id),
            ).fetchone()
            if row is None:
                return None
            aliases = self._aliases_of(tenant, version_id)
        return StoredVersion(
            tenant=tenant,
            version_id=version_id,
            files=json.loads(row[0]),
            functions=tuple(json.loads(row[1])),
            created_ms=row[2],
            aliases=aliases,
        )

    def list_versions(self, tenant: str) -> list[StoredVersion]:
        with self._lock:
            rows = self._db.execute(
                "SELECT version_id, files_json, functions_json, created_ms FROM versions "
                "WHERE tenant = ? ORDER BY rowid DESC",
                (tenant,),
            ).fetchall()
            aliases = {row[0]: self._aliases_of(tenant, row[0]) for row in rows}
        return [
            StoredVersion(
                tenant=tenant,
                version_id=vid,
                files=json.loads(files),
                functions=tuple(json.loads(functions)),
                created_ms=created,
                aliases=aliases[vid],
            )
            for vid, files, functions, created in rows
        ]

    def _aliases_of(self, tenant: str, version_id: str) -> tuple[str, ...]:
        rows = self._db.execute(
            "SELECT alias FROM aliases WHERE tenant = ? AND version_id = ? ORDER BY alias", (tenant, version_id)
        ).fetchall()
        return tuple(r[0] for r in rows)

    # -- secrets ----------------------------------------------------------------------

    def _put_secret(self, tenant: str, name: str, sealed: Sealed, max_secrets: int | None) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            existed = db.execute("SELECT 1 FROM secrets WHERE tenant = ? AND name = ?", (tenant, name)).fetchone()
            if existed is None and max_secrets is not None:
                (count,) = db.execute("SELECT count(*) FROM secrets WHERE tenant = ?", (tenant,)).fetchone()
                if count >= max_secrets:
                    raise OverQuota("secrets", count + 1, max_secrets)
            db.execute(
                "INSERT INTO secrets VALUES (?, ?, NULL, ?, ?, ?, ?) ON CONFLICT (tenant, name) "
                "DO UPDATE SET plaintext = NULL, key_id = excluded.key_id, wrapped_key = excluded.wrapped_key, "
                "ciphertext = excluded.ciphertext, updated_ms = excluded.updated_ms",
                (tenant, name, sealed.key_id, sealed.wrapped_key, sealed.ciphertext, now_ms()),
            )
            return existed is None

        return self._write_and_tell(work, Change(SECRETS, tenant))

    def delete_secret(self, tenant: str, name: str) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            return db.execute("DELETE FROM secrets WHERE tenant = ? AND name = ?", (tenant, name)).rowcount == 1

        return self._write_and_tell(work, Change(SECRETS, tenant))

    def secret_names(self, tenant: str) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT name FROM secrets WHERE tenant = ? ORDER BY name", (tenant,)).fetchall()
        return [r[0] for r in rows]

    def _secret_rows(self, tenant: str | None) -> list[SecretRow]:
        query = "SELECT tenant, name, plaintext, key_id, wrapped_key, ciphertext FROM secrets"
        with self._lock:
            if tenant is None:
                rows = self._db.execute(query).fetchall()
            else:
                rows = self._db.execute(query + " WHERE tenant = ?", (tenant,)).fetchall()
        return [
            SecretRow(t, n, Sealed(k, bytes(w), bytes(c)) if c is not None else None, p) for t, n, p, k, w, c in rows
        ]

    def _replace_secret_rows(self, rows: list[tuple[SecretRow, Sealed]]) -> int:
        def work(db: sqlite3.Connection) -> int:
            done = 0
            for row, sealed in rows:
                done += db.execute(
                    "UPDATE secrets SET plaintext = NULL, key_id = ?, wrapped_key = ?, ciphertext = ? "
                    "WHERE tenant = ? AND name = ? AND ciphertext IS ? AND plaintext IS ?",
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

        with self._lock:
            done = self._write(work)
            if not self._memory:
                # The old pages (plaintext, for rows sealed in place) leave the WAL and the file.
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return done

    # -- egress policies (outbound HTTP) -------------------------------------------------

    def set_egress_policy(self, tenant: str, policy: Mapping[str, Any] | None) -> int:
        text = None if policy is None else json.dumps(dict(policy), sort_keys=True)

        def work(db: sqlite3.Connection) -> int:
            row = db.execute("SELECT updated_ms FROM egress_policies WHERE tenant = ?", (tenant,)).fetchone()
            updated = max(now_ms(), row[0] + 1 if row else 0)
            db.execute(
                "INSERT INTO egress_policies VALUES (?, ?, ?) ON CONFLICT (tenant) "
                "DO UPDATE SET policy_json = excluded.policy_json, updated_ms = excluded.updated_ms",
                (tenant, text, updated),
            )
            return updated

        return self._write_and_tell(work, Change(EGRESS, tenant))

    def egress_policy(self, tenant: str) -> StoredEgressPolicy | None:
        with self._lock:
            row = self._db.execute(
                "SELECT policy_json, updated_ms FROM egress_policies WHERE tenant = ?", (tenant,)
            ).fetchone()
        if row is None:
            return None
        return StoredEgressPolicy(policy=None if row[0] is None else json.loads(row[0]), updated_ms=row[1])


def _prune_versions(db: sqlite3.Connection, tenant: str, keep_id: str, keep: int) -> None:
    """Deletes the tenant's oldest versions that no alias names, so that at most ``keep``
    remain, aliased ones included (``keep_id``, the one just stored, is never pruned);
    OverQuota if aliases name too many for that."""
    aliased = "SELECT version_id FROM aliases WHERE tenant = ?"
    (named,) = db.execute("SELECT count(DISTINCT version_id) FROM aliases WHERE tenant = ?", (tenant,)).fetchone()
    pruned = db.execute(
        f"DELETE FROM versions WHERE tenant = ? AND version_id != ? AND version_id NOT IN ({aliased}) "
        f"AND rowid NOT IN (SELECT rowid FROM versions WHERE tenant = ? AND version_id NOT IN ({aliased}) "
        f"ORDER BY rowid DESC LIMIT ?)",
        (tenant, keep_id, tenant, tenant, tenant, max(keep - named, 0)),
    ).rowcount
    (count,) = db.execute("SELECT count(*) FROM versions WHERE tenant = ?", (tenant,)).fetchone()
    if count > keep:
        raise OverQuota("versions", count, keep)
    if pruned:
        log.info("pruned %d versions of tenant %s (keeping %d)", pruned, tenant, keep)
