"""Both store backends on real servers, for the one contract suite.

``backend`` is parametrized over SQLite (a file in the test's directory) and PostgreSQL
(a fresh database on the session's real server, tests/pg.py). ``Backend.open`` goes
through ``worker.store.open_store`` with a configuration loaded the way the server loads
it; ``Backend.sql`` reaches the database directly, for what the interface cannot show
(the bytes at rest, an older schema).
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from worker.config import load_config
from worker.store import Store, open_store
from worker.store.crypto import new_key_text

KEY = new_key_text()


@dataclass
class Backend:
    kind: str
    url: str
    home: Path
    server: Any = None  # tests.pg.PostgresServer for postgresql

    def config(self, key: str | None = KEY, **env: str):
        values = {"HOME": str(self.home), "TOOLPOOL_STORE_URL": self.url, **env}
        if key is not None:
            values["TOOLPOOL_SECRETS_KEY"] = key
        return load_config(None, env=values)

    def open(self, key: str | None = KEY, **env: str) -> Store:
        return open_store(self.config(key, **env))

    def sql(self, statement: str, params: tuple = ()) -> list[tuple]:
        """Runs one statement directly on the database ('?' placeholders) and commits."""
        if self.kind == "sqlite":
            with contextlib.closing(sqlite3.connect(self.url[len("sqlite://") :])) as db:
                rows = db.execute(statement, params).fetchall()
                db.commit()
                return rows
        with psycopg.connect(self.url, autocommit=True) as conn:
            cursor = conn.execute(statement.replace("?", "%s"), params)
            return cursor.fetchall() if cursor.description else []

    def raw_bytes(self) -> bytes:
        """Everything a backup of the database holds: the SQLite files, or a pg_dump."""
        if self.kind == "sqlite":
            path = Path(self.url[len("sqlite://") :])
            return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))
        return self.server.pg_dump(self.url).encode()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", f"sqlite:///{tmp_path / 'db' / 'toolpool.db'}", tmp_path)
    server = request.getfixturevalue("postgres_server")
    return Backend("postgresql", server.create_database(), tmp_path, server)


@pytest.fixture()
def store(backend):
    opened = backend.open()
    try:
        yield opened
    finally:
        opened.close()
