"""The fleet's durable state behind one interface, and the choice of backend by URL.

    sqlite:///ABSOLUTE/PATH             SQLiteStore: embedded, one replica (the default,
                                        <state dir>/toolpool.db)
    postgresql://USER:PW@HOST:PORT/DB   PostgresStore: one database for a whole fleet
                                        (also postgres://; libpq's query parameters apply)

``open_store(config)`` builds the keyring (``secrets.key``, ``secrets.key_file``, or for
SQLite a key file beside the database, made on first use with mode 0600), opens the
backend (migrating its schema), proves the keys open every stored secret, and seals any
plaintext rows left by an older version. Everything that can go wrong there is a
``StoreStartupError`` naming the setting to fix.

The modules: base.py (the interface, shared sealing and change events), sqlite.py,
postgres.py, migrations.py (the numbered schema), crypto.py (envelope encryption).
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

from worker.store.base import (
    ALIAS, EGRESS, SECRETS, Change, OverQuota, StorageUnavailable, Store, StoredEgressPolicy, StoredVersion,
    StoreStartupError,
)
from worker.store.crypto import Keyring, KeyTextError, parse_keys, read_or_create_key_file

if TYPE_CHECKING:
    from worker.config import Config

__all__ = [
    "ALIAS", "EGRESS", "SECRETS", "Change", "OverQuota", "StorageUnavailable", "Store", "StoredEgressPolicy", "StoredVersion",
    "StoreStartupError", "open_store", "redact_url", "keyring_for", "parse_store_url", "default_key_file",
]

SQLITE_PREFIX = "sqlite://"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
USAGE = "give sqlite:///ABSOLUTE/PATH or postgresql://USER:PASSWORD@HOST:PORT/DATABASE"


def parse_store_url(url: str) -> tuple[str, str]:
    """("sqlite", path) or ("postgresql", url). Raises ValueError saying what is wrong."""
    if url.startswith(SQLITE_PREFIX):
        path = url[len(SQLITE_PREFIX):]
        if not path.startswith("/") or path.strip("/") == "" or "?" in path:
            raise ValueError(f"{url[:200]!r} is not a SQLite URL with an absolute path; {USAGE}")
        return "sqlite", "/" + path.lstrip("/")  # sqlite:////abs (SQLAlchemy's spelling) is the same file
    if url.startswith(POSTGRES_SCHEMES):
        from psycopg.conninfo import conninfo_to_dict

        try:
            conninfo_to_dict(url)
        except Exception as exc:  # noqa: BLE001 - psycopg raises ProgrammingError, libpq's text inside
            # libpq quotes the part it could not parse, which may be the password: not echoed.
            detail = re.sub(r'"[^"]*"', '"..."', str(exc).strip().splitlines()[0])[:200]
            raise ValueError(f"not a valid PostgreSQL URL ({detail}); {USAGE}") from None
        return "postgresql", url
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise ValueError(f"unknown scheme {scheme[:40]!r}; {USAGE}")


def redact_url(url: str) -> str:
    """The URL with its password (in the authority or a ``password=`` parameter) replaced by ***."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        netloc = f"{user}{':***' if colon else ''}@{hostport}"
    query = urllib.parse.urlencode(
        [(k, "***" if k == "password" else v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)],
        safe="*")
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def default_key_file(sqlite_path: str | Path) -> Path:
    """Where the embedded default keeps its master key: beside the database."""
    return Path(sqlite_path).parent / "secrets.key"


def keyring_for(config: Config) -> Keyring:
    """The configured master keys. Raises StoreStartupError naming the setting."""
    kind, where = parse_store_url(config.store_url)
    if config.secrets_key:
        return _keyring(config.secrets_key, "secrets.key")
    path = config.secrets_key_file
    if path is None:
        if kind != "sqlite":  # config.py refuses this too; kept for embedders building a Config by hand
            raise StoreStartupError("secrets.key", "a PostgreSQL store needs the master key: set "
                                                   "TOOLPOOL_SECRETS_KEY or secrets.key_file, the same on every replica")
        path = default_key_file(where)
        try:
            return _keyring(read_or_create_key_file(path), f"secrets.key_file ({path})")
        except OSError as exc:
            raise StoreStartupError("secrets.key_file", f"cannot read or create {path}: {exc.strerror}") from None
    try:
        text = path.read_text()
    except OSError as exc:
        raise StoreStartupError("secrets.key_file", f"cannot read {path}: {exc.strerror}") from None
    return _keyring(text, f"secrets.key_file ({path})")


def _keyring(text: str, setting: str) -> Keyring:
    try:
        return Keyring(parse_keys(text))
    except KeyTextError as exc:
        raise StoreStartupError(setting, str(exc)) from None


def open_store(config: Config) -> Store:
    """The configured store, migrated, its keys checked and its plaintext secrets sealed."""
    keyring = keyring_for(config)
    kind, where = parse_store_url(config.store_url)
    if kind == "sqlite":
        from worker.store.sqlite import SQLiteStore
        from worker.store.migrations import SchemaTooNew

        try:
            store: Store = SQLiteStore(where, keyring)
        except SchemaTooNew as exc:
            raise StoreStartupError("store.url", str(exc)) from None
    else:
        from worker.store.postgres import PostgresStore

        store = PostgresStore(where, keyring, pool_size=config.store_pool_size, timeout_ms=config.store_timeout_ms,
                              connect_timeout_s=config.store_connect_timeout_s).open()
    try:
        store.check_keys()
        store.seal_plaintext_rows()
    except BaseException:
        store.close()
        raise
    return store
