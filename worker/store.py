"""Durable state of one replica: deployed versions, aliases, secrets and egress policies, in SQLite (WAL).

Tables (``PRAGMA user_version`` = schema version)::

    versions(tenant, version_id, files_json, functions_json, created_ms)   PK (tenant, version_id)
    aliases(tenant, alias, version_id, updated_ms)                         PK (tenant, alias)
    secrets(tenant, name, value, updated_ms)                               PK (tenant, name)
    egress_policies(tenant, policy_json, updated_ms)                       PK tenant

Every query is keyed by tenant: there is no way to read or write another tenant's rows
through this API. A deploy (version row + alias move) is one transaction, so a version is
either fully stored with its alias moved, or not at all. Secret values leave this module
only through ``secrets_for_call``, which the service hands to the sandbox and nowhere else.

The caller is responsible for validating names and sizes (see worker/service.py); this
module trusts its arguments but not the file: it is created with mode 0600.

When the database cannot be written (its disk is full, it is read-only, locked by another
process, or an I/O error) a write raises ``StorageUnavailable`` (UNAVAILABLE, reason
STORAGE_UNAVAILABLE) after rolling back: nothing was stored, and reads go on, so tools
already deployed keep running. A database that cannot be opened for writing at start-up
(a read-only mount, a full disk) is opened read-only instead when it already holds this
schema, and every later write first tries to reopen it for writing.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sqlite3
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

from worker.errors import Unavailable

log = logging.getLogger("toolpool.store")

SCHEMA_VERSION = 2  # 2: egress_policies (a version-1 database gains the table when opened)

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


_OS_CAUSES = {errno.EROFS: "it is read-only", errno.ENOSPC: "its disk is full", errno.EDQUOT: "its disk is full",
              errno.EACCES: "it may not be written"}


class StorageUnavailable(Unavailable):
    """The database cannot be written now; nothing was stored. Reads still work."""

    reason = "STORAGE_UNAVAILABLE"


def _unwritable_cause(exc: BaseException) -> str | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(exc, sqlite3.OperationalError) and code is not None:
        return _UNWRITABLE.get(code & 0xFF)
    return None

_SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (
    tenant TEXT NOT NULL,
    version_id TEXT NOT NULL,
    files_json TEXT NOT NULL,
    functions_json TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant, version_id)
);
CREATE TABLE IF NOT EXISTS aliases (
    tenant TEXT NOT NULL,
    alias TEXT NOT NULL,
    version_id TEXT NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant, alias),
    FOREIGN KEY (tenant, version_id) REFERENCES versions (tenant, version_id)
);
CREATE TABLE IF NOT EXISTS secrets (
    tenant TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant, name)
);
CREATE TABLE IF NOT EXISTS egress_policies (
    tenant TEXT NOT NULL PRIMARY KEY,
    policy_json TEXT,
    updated_ms INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class StoredEgressPolicy:
    """A tenant's egress policy as stored: plain data (``EgressPolicy.to_dict()``), or
    None once switched off; ``updated_ms`` grows with every change of this tenant's row."""

    policy: Mapping[str, Any] | None
    updated_ms: int


@dataclass(frozen=True)
class StoredVersion:
    tenant: str
    version_id: str
    files: Mapping[str, str]
    functions: tuple[str, ...]
    created_ms: int
    aliases: tuple[str, ...] = ()


def _now_ms() -> int:
    return int(time.time() * 1000)


class Store:
    """One SQLite connection shared by the server's threads behind a lock.

    Writes are rare (deploys, secrets); reads on the hot path are one indexed row.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
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
            log.warning("the database %s cannot be written (%s): serving it read-only; deploys and "
                        "secret changes fail until it can be written", self.path, exc)

    def _open_writable(self) -> sqlite3.Connection:
        if not self._memory:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Secrets live here: create the file private before SQLite opens it.
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        db = sqlite3.connect(str(self.path) if not self._memory else ":memory:",
                             check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout=5000")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
            db.execute("PRAGMA foreign_keys=ON")
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
                if version == SCHEMA_VERSION:
                    return db
            except sqlite3.Error:
                pass
            db.close()
        raise cause

    def _migrate(self, db: sqlite3.Connection) -> None:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path}: schema version {version} is newer than this server's {SCHEMA_VERSION}"
            )
        if version < SCHEMA_VERSION:  # a database of this version needs no write to open
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def journal_mode(self) -> str:
        with self._lock:
            return self._db.execute("PRAGMA journal_mode").fetchone()[0]

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
        cause = _unwritable_cause(exc) or _OS_CAUSES.get(getattr(exc, "errno", None))
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
    ) -> bool:
        """Stores the version and moves the alias, in one transaction. True if new."""
        now = _now_ms()

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
            return cursor.rowcount == 1

        with self._lock:
            return self._write(work)

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
        """The tenant's versions, newest first, without their sources' text parsed twice.

        Newest is the last stored (rowid order), not the largest created_ms: that is a
        wall-clock timestamp, and the wall clock may have been set back in between.
        """
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

    def set_secret(self, tenant: str, name: str, value: str) -> bool:
        """Sets or replaces a secret. True if it did not exist."""
        def work(db: sqlite3.Connection) -> bool:
            existed = db.execute("SELECT 1 FROM secrets WHERE tenant = ? AND name = ?", (tenant, name)).fetchone()
            db.execute(
                "INSERT INTO secrets VALUES (?, ?, ?, ?) ON CONFLICT (tenant, name) "
                "DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms",
                (tenant, name, value, _now_ms()),
            )
            return existed is None

        with self._lock:
            return self._write(work)

    def delete_secret(self, tenant: str, name: str) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            return db.execute("DELETE FROM secrets WHERE tenant = ? AND name = ?", (tenant, name)).rowcount == 1

        with self._lock:
            return self._write(work)

    def secret_names(self, tenant: str) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT name FROM secrets WHERE tenant = ? ORDER BY name", (tenant,)).fetchall()
        return [r[0] for r in rows]

    def secrets_for_call(self, tenant: str) -> dict[str, str]:
        """The tenant's secrets, for the sandbox call only. Never log or return the result."""
        with self._lock:
            rows = self._db.execute("SELECT name, value FROM secrets WHERE tenant = ?", (tenant,)).fetchall()
        return dict(rows)

    # -- egress policies (outbound HTTP) -------------------------------------------------

    def set_egress_policy(self, tenant: str, policy: Mapping[str, Any] | None) -> int:
        """Stores the tenant's egress policy (plain data), or None: no egress. Returns the
        row's new updated_ms, which is larger than any before it for this tenant even when
        the wall clock stalls or goes back (a switched-off policy keeps its row for that),
        so (tenant, updated_ms) names one policy."""
        text = None if policy is None else json.dumps(dict(policy), sort_keys=True)

        def work(db: sqlite3.Connection) -> int:
            row = db.execute("SELECT updated_ms FROM egress_policies WHERE tenant = ?", (tenant,)).fetchone()
            updated = max(_now_ms(), row[0] + 1 if row else 0)
            db.execute(
                "INSERT INTO egress_policies VALUES (?, ?, ?) ON CONFLICT (tenant) "
                "DO UPDATE SET policy_json = excluded.policy_json, updated_ms = excluded.updated_ms",
                (tenant, text, updated),
            )
            return updated

        with self._lock:
            return self._write(work)

    def egress_policy(self, tenant: str) -> StoredEgressPolicy | None:
        """The tenant's stored egress policy; None if it was never set."""
        with self._lock:
            row = self._db.execute(
                "SELECT policy_json, updated_ms FROM egress_policies WHERE tenant = ?", (tenant,)
            ).fetchone()
        if row is None:
            return None
        return StoredEgressPolicy(policy=None if row[0] is None else json.loads(row[0]), updated_ms=row[1])
