"""Durable state of one replica: deployed versions, aliases and secrets, in SQLite (WAL).

Tables (``PRAGMA user_version`` = schema version)::

    versions(tenant, version_id, files_json, functions_json, created_ms)   PK (tenant, version_id)
    aliases(tenant, alias, version_id, updated_ms)                         PK (tenant, alias)
    secrets(tenant, name, value, updated_ms)                               PK (tenant, name)

Every query is keyed by tenant: there is no way to read or write another tenant's rows
through this API. A deploy (version row + alias move) is one transaction, so a version is
either fully stored with its alias moved, or not at all. Secret values leave this module
only through ``secrets_for_call``, which the service hands to the sandbox and nowhere else.

The caller is responsible for validating names and sizes (see worker/service.py); this
module trusts its arguments but not the file: it is created with mode 0600.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

SCHEMA_VERSION = 1

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
"""


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
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Secrets live here: create the file private before SQLite opens it.
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._migrate()

    def _migrate(self) -> None:
        with self._lock:
            (version,) = self._db.execute("PRAGMA user_version").fetchone()
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path}: schema version {version} is newer than this server's {SCHEMA_VERSION}"
                )
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def journal_mode(self) -> str:
        with self._lock:
            return self._db.execute("PRAGMA journal_mode").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

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
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO versions VALUES (?, ?, ?, ?, ?)",
                    (tenant, version_id, json.dumps(dict(files), sort_keys=True), json.dumps(list(functions)), now),
                )
                created = cursor.rowcount == 1
                if alias:
                    self._db.execute(
                        "INSERT INTO aliases VALUES (?, ?, ?, ?) ON CONFLICT (tenant, alias) "
                        "DO UPDATE SET version_id = excluded.version_id, updated_ms = excluded.updated_ms",
                        (tenant, alias, version_id, now),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return created

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
        """The tenant's versions, newest first, without their sources' text parsed twice."""
        with self._lock:
            rows = self._db.execute(
                "SELECT version_id, files_json, functions_json, created_ms FROM versions "
                "WHERE tenant = ? ORDER BY created_ms DESC, version_id",
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
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                existed = self._db.execute(
                    "SELECT 1 FROM secrets WHERE tenant = ? AND name = ?", (tenant, name)
                ).fetchone()
                self._db.execute(
                    "INSERT INTO secrets VALUES (?, ?, ?, ?) ON CONFLICT (tenant, name) "
                    "DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms",
                    (tenant, name, value, _now_ms()),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return existed is None

    def delete_secret(self, tenant: str, name: str) -> bool:
        with self._lock:
            cursor = self._db.execute("DELETE FROM secrets WHERE tenant = ? AND name = ?", (tenant, name))
        return cursor.rowcount == 1

    def secret_names(self, tenant: str) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT name FROM secrets WHERE tenant = ? ORDER BY name", (tenant,)).fetchall()
        return [r[0] for r in rows]

    def secrets_for_call(self, tenant: str) -> dict[str, str]:
        """The tenant's secrets, for the sandbox call only. Never log or return the result."""
        with self._lock:
            rows = self._db.execute("SELECT name, value FROM secrets WHERE tenant = ?", (tenant,)).fetchall()
        return dict(rows)
