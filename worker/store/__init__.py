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
postgres.py, migrations.py (the numbered schema), crypto.py (envelope encryption),
urls.py (``store.url``: parsing and redaction). ``open_store`` reads its settings by
shape (``StoreSettings``), so the store never imports the configuration that names it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from worker.store.base import (
    ALIAS,
    EGRESS,
    SECRETS,
    Change,
    OverQuota,
    StorageUnavailable,
    Store,
    StoredEgressPolicy,
    StoredVersion,
    StoreStartupError,
)
from worker.store.crypto import Keyring, KeyTextError, parse_keys, read_or_create_key_file
from worker.store.urls import default_key_file, parse_store_url, redact_url

__all__ = [
    "ALIAS",
    "EGRESS",
    "SECRETS",
    "Change",
    "OverQuota",
    "StorageUnavailable",
    "Store",
    "StoreSettings",
    "StoreStartupError",
    "StoredEgressPolicy",
    "StoredVersion",
    "default_key_file",
    "keyring_for",
    "open_store",
    "parse_store_url",
    "redact_url",
]


class StoreSettings(Protocol):
    """What opening the store reads of the configuration: ``worker.config.Config`` has
    these attributes (``store.*`` and ``secrets.*``), and so may an embedder's own object.
    The store takes them by shape rather than importing the configuration, which imports
    the store's URL and key checks."""

    @property
    def store_url(self) -> str: ...
    @property
    def store_pool_size(self) -> int: ...
    @property
    def store_timeout_ms(self) -> int: ...
    @property
    def store_connect_timeout_s(self) -> float: ...
    @property
    def secrets_key(self) -> str | None: ...
    @property
    def secrets_key_file(self) -> Path | None: ...


def keyring_for(config: StoreSettings) -> Keyring:
    """The configured master keys. Raises StoreStartupError naming the setting."""
    kind, where = parse_store_url(config.store_url)
    if config.secrets_key:
        return _keyring(config.secrets_key, "secrets.key")
    path = config.secrets_key_file
    if path is None:
        if kind != "sqlite":  # config.py refuses this too; kept for embedders building a Config by hand
            raise StoreStartupError(
                "secrets.key",
                "a PostgreSQL store needs the master key: set "
                "TOOLPOOL_SECRETS_KEY or secrets.key_file, the same on every replica",
            )
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


def open_store(config: StoreSettings) -> Store:
    """The configured store, migrated, its keys checked and its plaintext secrets sealed."""
    keyring = keyring_for(config)
    kind, where = parse_store_url(config.store_url)
    if kind == "sqlite":
        from worker.store.migrations import SchemaTooNew
        from worker.store.sqlite import SQLiteStore

        try:
            store: Store = SQLiteStore(where, keyring)
        except SchemaTooNew as exc:
            raise StoreStartupError("store.url", str(exc)) from None
    else:
        from worker.store.postgres import PostgresStore

        store = PostgresStore(
            where,
            keyring,
            pool_size=config.store_pool_size,
            timeout_ms=config.store_timeout_ms,
            connect_timeout_s=config.store_connect_timeout_s,
        ).open()
    try:
        store.check_keys()
        store.seal_plaintext_rows()
    except BaseException:
        store.close()
        raise
    return store
