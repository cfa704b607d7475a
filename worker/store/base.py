"""The store interface every backend implements, and what the backends share.

``Store`` is the durable state of the fleet: deployed versions (immutable, named by
their content), aliases, secrets and egress policies (mutable, named by tenant and
name). Two backends implement it, chosen by ``store.url`` (worker/store/__init__.py):
``SQLiteStore`` (one replica, embedded) and ``PostgresStore`` (a fleet). Both run the
same contract suite (tests/store/test_contract.py).

What the backends share, here:

* **Secrets are sealed** (worker/store/crypto.py) before a backend sees them: backends
  store and return ``Sealed`` rows, and this class opens them for ``secrets_for_call``
  only. Rows written before encryption existed (``plaintext``) are sealed in place by
  ``seal_plaintext_rows`` at start-up; ``check_keys`` proves at start-up that the
  configured keys open every stored row, so a wrong key stops the server then, never
  at a call.
* **Change events.** After a write commits, the backend tells its listeners
  (``subscribe``) which kind of mutable row of which tenant changed, and PostgreSQL also
  tells every other replica (LISTEN/NOTIFY). ``Change(kind=None)`` means "anything may
  have changed" (after a reconnect): drop every cached mutable row. Versions never
  change, so they have no events.
* **Errors.** A database that cannot be reached, read or written now raises
  ``StorageUnavailable`` (UNAVAILABLE, reason STORAGE_UNAVAILABLE) within the backend's
  time bound; a write that raised it stored nothing. Problems found while opening the
  store raise ``StoreStartupError``, whose message names the setting to fix.

Every query is keyed by tenant: there is no way to read or write another tenant's rows
through this API. The caller validates names and sizes (worker/service.py); backends
trust their arguments, not the database's contents.
"""

from __future__ import annotations

import abc
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from worker.errors import Unavailable
from worker.store.crypto import Keyring, Sealed, SecretUndecryptable

log = logging.getLogger("toolpool.store")

ALIAS, SECRETS, EGRESS = "alias", "secrets", "egress"
CHANGE_KINDS = (ALIAS, SECRETS, EGRESS)


class StorageUnavailable(Unavailable):
    """The database cannot be reached, read or written now; a write that raised it stored nothing."""

    reason = "STORAGE_UNAVAILABLE"


class StoreStartupError(Exception):
    """The store cannot be opened as configured. ``setting`` is the configuration key to
    look at (``store.url``, ``secrets.key``); the message starts with it."""

    def __init__(self, setting: str, message: str):
        super().__init__(f"{setting}: {message}")
        self.setting = setting


class OverQuota(Exception):
    """A write would take the tenant past one of its caps (``what``: versions, aliases,
    secrets); nothing was stored."""

    def __init__(self, what: str, count: int, limit: int):
        super().__init__(f"the tenant would have {count} {what}, more than its limit of {limit}")
        self.what, self.count, self.limit = what, count, limit


@dataclass(frozen=True)
class Change:
    """A committed change of a tenant's mutable rows; kind None: anything may have changed."""

    kind: str | None
    tenant: str = ""


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


@dataclass(frozen=True)
class SecretRow:
    """A secret as a backend stores it: sealed, or (rows from before migration 3) plaintext."""

    tenant: str
    name: str
    sealed: Sealed | None
    plaintext: str | None = None


def now_ms() -> int:
    """A wall-clock timestamp for the created_ms / updated_ms columns: shown to people, never compared."""
    return int(time.time() * 1000)


class Store(abc.ABC):
    """The interface (public methods) and the sealing of secrets around the backends' rows."""

    #: the store's URL without a password, for logs and messages
    url: str
    #: True while writes cannot even be attempted (SQLite opened read-only)
    read_only: bool = False

    def __init__(self, keyring: Keyring):
        self.keyring = keyring
        self._listeners: list[Callable[[Change], None]] = []
        self._listeners_lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------------

    @abc.abstractmethod
    def close(self) -> None: ...

    def is_up(self) -> bool:
        """Whether the database answers now (the ``toolpool_store_up`` gauge)."""
        return True

    def subscribe(self, listener: Callable[[Change], None]) -> None:
        """Calls ``listener`` after every committed change of a mutable row, from any thread.
        Listeners must be quick and must not raise."""
        with self._listeners_lock:
            self._listeners.append(listener)

    def _changed(self, change: Change) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(change)

    # -- versions and aliases ---------------------------------------------------------------

    @abc.abstractmethod
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
        """Stores the version and moves the alias, in one transaction. True if the version is new.

        With ``keep_versions``, the tenant's oldest versions that no alias names are pruned
        so that at most that many remain; ``OverQuota("versions")`` when aliases name too
        many to prune, ``OverQuota("aliases")`` when a new alias would pass ``max_aliases``.
        Either leaves the store as it was."""

    @abc.abstractmethod
    def resolve_alias(self, tenant: str, alias: str) -> str | None: ...

    @abc.abstractmethod
    def get_version(self, tenant: str, version_id: str) -> StoredVersion | None: ...

    @abc.abstractmethod
    def list_versions(self, tenant: str) -> list[StoredVersion]:
        """The tenant's versions, last stored first (not by created_ms: the wall clock may go back)."""

    # -- egress policies ----------------------------------------------------------------------

    @abc.abstractmethod
    def set_egress_policy(self, tenant: str, policy: Mapping[str, Any] | None) -> int:
        """Stores the tenant's egress policy (plain data), or None: no egress. Returns the
        row's new updated_ms, larger than any before it for this tenant even when the wall
        clock stalls or goes back (a switched-off policy keeps its row for that), so
        (tenant, updated_ms) names one policy."""

    @abc.abstractmethod
    def egress_policy(self, tenant: str) -> StoredEgressPolicy | None:
        """The tenant's stored egress policy; None if it was never set."""

    # -- secrets ------------------------------------------------------------------------------

    def set_secret(self, tenant: str, name: str, value: str, *, max_secrets: int | None = None) -> bool:
        """Seals and stores the secret, replacing any. True if it did not exist.
        ``OverQuota("secrets")`` when a new one would pass ``max_secrets``."""
        return self._put_secret(tenant, name, self.keyring.seal(tenant, name, value), max_secrets)

    @abc.abstractmethod
    def _put_secret(self, tenant: str, name: str, sealed: Sealed, max_secrets: int | None) -> bool: ...

    @abc.abstractmethod
    def delete_secret(self, tenant: str, name: str) -> bool: ...

    @abc.abstractmethod
    def secret_names(self, tenant: str) -> list[str]: ...

    @abc.abstractmethod
    def _secret_rows(self, tenant: str | None) -> list[SecretRow]:
        """The tenant's rows (every tenant's with None: start-up checks and rotation)."""

    def secrets_for_call(self, tenant: str) -> dict[str, str]:
        """The tenant's secret values, for the sandbox call only. Never log or return the result."""
        return {row.name: self._open(row) for row in self._secret_rows(tenant)}

    def _open(self, row: SecretRow) -> str:
        if row.sealed is None:
            return row.plaintext or ""  # a database that could not be sealed in place (read-only)
        try:
            return self.keyring.open(row.tenant, row.name, row.sealed)
        except SecretUndecryptable:
            # check_keys proved every row at start-up; a row that fails now was written by
            # a replica with another key since. The call must not get a wrong value.
            log.error(
                "a stored secret does not decrypt with this replica's keys (tenant=%s name=%s)", row.tenant, row.name
            )
            raise StorageUnavailable(
                "a stored secret does not decrypt with this replica's keys "
                "(its secrets.key differs from the replica that wrote it)"
            ) from None

    @abc.abstractmethod
    def _replace_secret_rows(self, rows: list[tuple[SecretRow, Sealed]]) -> int:
        """Replaces each row's sealed form (or plaintext) with the given one, unless the row
        changed since it was read. Returns how many rows were replaced."""

    def check_keys(self) -> None:
        """Raises StoreStartupError unless the configured keys open every stored secret."""
        for row in self._secret_rows(None):
            if row.sealed is None:
                continue
            try:
                self.keyring.check(row.tenant, row.name, row.sealed)
            except SecretUndecryptable as exc:
                raise StoreStartupError(
                    "secrets.key",
                    f"the configured keys cannot decrypt the stored secrets ({exc}); start with the key "
                    "that sealed them (TOOLPOOL_SECRETS_KEY or secrets.key_file), adding a new one first "
                    "in the list to rotate",
                ) from None

    def seal_plaintext_rows(self) -> int:
        """Seals, in place, rows written before secrets were encrypted. Returns how many."""
        plain = [row for row in self._secret_rows(None) if row.sealed is None]
        if not plain or self.read_only:
            if plain:
                log.warning(
                    "%d secrets are stored in plaintext and the database is read-only: they are "
                    "sealed at the next start that can write",
                    len(plain),
                )
            return 0
        done = self._replace_secret_rows(
            [(row, self.keyring.seal(row.tenant, row.name, row.plaintext or "")) for row in plain]
        )
        log.warning(
            "sealed %d plaintext secrets in place under key %s",
            done,
            self.keyring.primary.key_id,
            extra={"event": "secrets_sealed", "count": done},
        )
        return done

    def rotate_key(self) -> tuple[int, int]:
        """Re-wraps every secret's data key under the primary key, row by row, while
        replicas keep serving (the values do not change). Returns (rotated, already)."""
        every = self._secret_rows(None)
        rows = [row for row in every if row.sealed is None or row.sealed.key_id != self.keyring.primary.key_id]
        replaced = [
            (
                row,
                self.keyring.rewrap(row.tenant, row.name, row.sealed)
                if row.sealed
                else self.keyring.seal(row.tenant, row.name, row.plaintext or ""),
            )
            for row in rows
        ]
        done = self._replace_secret_rows(replaced)
        return done, len(every) - len(rows)
