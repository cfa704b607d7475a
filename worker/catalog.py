"""What a replica keeps in memory of the store, for the Execute path only.

Every cache here is bounded in bytes, not entries, and fair between tenants
(``FairCache``): when one is full, the entry evicted is the least recently used of the
tenant holding the most bytes, so a tenant flooding a cache evicts its own entries and
can never push out all of another tenant's. Sizes are the bytes of what the entry holds
(source and code of a bundle; strings of a row), plus a fixed overhead per entry for the
Python objects around them: an estimate, made on the same terms for every tenant.
``Budget`` splits the replica's ``cache.bytes`` (default 128 MiB) between the caches.

Immutable by content, mutable by name (as git keeps objects and refs):

* ``BundleCache``: compiled bundles by (tenant, version_id). A version id is the content
  address of its files, so an entry is never stale and is never invalidated; a replica
  that lacks one fetches the version from the store once and compiles it (confined).
* ``RowCache``: the mutable rows a call needs: an alias's version id, a tenant's secrets,
  a tenant's egress policy. Filled from the store on first use, dropped when the store
  reports a change of that kind for that tenant (worker/store/base.py ``Change``; from
  other replicas through PostgreSQL's NOTIFY), all dropped on ``Change(None)`` (after the
  store reconnects, since notifications may have been lost). While the database is
  away nothing is dropped, so calls go on with the rows as last seen.

A fill that read the store before an invalidation and finishes after it must not put
the old row back: every invalidation bumps a generation, and a fill stores its row only
if the generation did not move while it read. A missing alias is not cached (the next
call asks the store again); a tenant without secrets or policy is cached as such.

Only ``ToolService.execute`` reads through these caches; the read RPCs (GetVersion,
ListVersions, GetEgressPolicy, ListSecretNames) go to the store, so an operator reads
back what another replica just wrote. Secret values held here are the ones every call
of the tenant receives anyway; they never leave through any other path.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sandbox.bundles import Bundle
from worker.store import Change

_T = TypeVar("_T")
_V = TypeVar("_V")

DEFAULT_CACHE_BYTES = 128 * 1024 * 1024
ENTRY_OVERHEAD = 256
"""Bytes counted per cached entry for the Python objects around its data."""


@dataclass(frozen=True)
class Budget:
    """``cache.bytes`` split between the caches: compiled bundles get three quarters."""

    bundles: int
    rows: int
    egress: int

    @classmethod
    def of(cls, total: int = DEFAULT_CACHE_BYTES) -> Budget:
        rows = egress = total // 8
        return cls(bundles=total - rows - egress, rows=rows, egress=egress)


def bundle_size(bundle: Bundle) -> int:
    """The bytes a compiled bundle holds: each file's source and code, and the entry."""
    return ENTRY_OVERHEAD + sum(ENTRY_OVERHEAD + len(tool.source) + len(tool.code) for tool in bundle.files.values())


def estimate_bytes(value: Any, depth: int = 0) -> int:
    """The bytes a row holds: its strings, numbers and containers, each with its overhead.
    Rows are plain data the store returned (str, int, dict, list, dataclasses of those)."""
    if depth > 32:
        return ENTRY_OVERHEAD
    if isinstance(value, (str, bytes)):
        return 64 + len(value)
    if isinstance(value, dict):
        return ENTRY_OVERHEAD + sum(
            estimate_bytes(k, depth + 1) + estimate_bytes(v, depth + 1) for k, v in value.items()
        )
    if isinstance(value, (list, tuple, set, frozenset)):
        return 64 + sum(8 + estimate_bytes(item, depth + 1) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return 64 + sum(estimate_bytes(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value))
    return 32


class FairCache(Generic[_V]):
    """Values by (tenant, key) within ``max_bytes``, fair between tenants. Thread-safe.

    Full, it evicts the least recently used entry of the tenant holding the most bytes
    (ties: the tenant least recently used), so a tenant that floods it evicts its own
    entries first and another tenant keeps about as much as the flooder holds. A value
    larger than ``max_bytes`` is not kept (nothing is evicted for it)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._tenants: collections.OrderedDict[str, collections.OrderedDict[Hashable, tuple[_V, int]]] = (
            collections.OrderedDict()
        )
        self._tenant_bytes: dict[str, int] = {}
        self._bytes = 0
        self.counters: collections.Counter[str] = collections.Counter()

    def get(self, tenant: str, key: Hashable) -> _V | None:
        with self._lock:
            entries = self._tenants.get(tenant)
            item = entries.get(key) if entries is not None else None
            if entries is None or item is None:
                self.counters["misses"] += 1
                return None
            entries.move_to_end(key)
            self._tenants.move_to_end(tenant)
            self.counters["hits"] += 1
            return item[0]

    def put(self, tenant: str, key: Hashable, value: _V, size: int) -> None:
        with self._lock:
            self._pop(tenant, key)
            if size > self.max_bytes:
                return
            entries = self._tenants.setdefault(tenant, collections.OrderedDict())
            self._tenants.move_to_end(tenant)
            entries[key] = (value, size)
            self._tenant_bytes[tenant] = self._tenant_bytes.get(tenant, 0) + size
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._evict_one()

    def drop(self, tenant: str, matches: Callable[[Hashable], bool] | None = None) -> None:
        """Drops the tenant's entries whose key ``matches`` (all of them without it)."""
        with self._lock:
            entries = self._tenants.get(tenant)
            for key in [k for k in entries or () if matches is None or matches(k)]:
                self._pop(tenant, key)

    def clear(self) -> None:
        with self._lock:
            self._tenants.clear()
            self._tenant_bytes.clear()
            self._bytes = 0

    def info(self) -> dict[str, int]:
        with self._lock:
            return {
                **self.counters,
                "entries": sum(len(e) for e in self._tenants.values()),
                "tenants": len(self._tenants),
                "bytes": self._bytes,
                "max_bytes": self.max_bytes,
                "largest_tenant_bytes": max(self._tenant_bytes.values(), default=0),
            }

    def tenant_bytes(self, tenant: str) -> int:
        with self._lock:
            return self._tenant_bytes.get(tenant, 0)

    def _pop(self, tenant: str, key: Hashable) -> None:
        entries = self._tenants.get(tenant)
        item = entries.pop(key, None) if entries is not None else None
        if item is None:
            return
        self._bytes -= item[1]
        self._tenant_bytes[tenant] -= item[1]
        if not entries:
            del self._tenants[tenant]
            del self._tenant_bytes[tenant]

    def _evict_one(self) -> None:
        # The first tenant in LRU order among those with the most bytes.
        tenant = max(self._tenants, key=self._tenant_bytes.__getitem__)
        key = next(iter(self._tenants[tenant]))
        self._pop(tenant, key)
        self.counters["evictions"] += 1


class BundleCache:
    """Compiled bundles by (tenant, version_id), within ``max_bytes``, fair between tenants."""

    def __init__(self, max_bytes: int = Budget.of().bundles):
        self._cache: FairCache[Bundle] = FairCache(max_bytes)

    def get(self, key: tuple[str, str]) -> Bundle | None:
        return self._cache.get(*key)

    def put(self, key: tuple[str, str], bundle: Bundle) -> None:
        self._cache.put(key[0], key[1], bundle, bundle_size(bundle))

    def info(self) -> dict[str, int]:
        return self._cache.info()


class RowCache:
    """Mutable rows by (kind, tenant) then name ("" for a whole-tenant row), within
    ``max_bytes``, fair between tenants."""

    def __init__(self, max_bytes: int = Budget.of().rows):
        self._cache: FairCache[tuple[Any]] = FairCache(max_bytes)  # each row wrapped in a 1-tuple
        self._lock = threading.Lock()
        self._generation = 0

    def lookup(
        self,
        kind: str,
        tenant: str,
        name: str,
        load: Callable[[], _T],
        *,
        keep: Callable[[_T], bool] = lambda value: True,
    ) -> _T:
        """The cached row, or ``load()``'s, cached when ``keep(row)`` and no change came meanwhile.
        Raises what ``load`` raises (StorageUnavailable), caching nothing."""
        with self._lock:
            generation = self._generation
        found = self._cache.get(tenant, (kind, name))
        if found is not None:
            # Rows are wrapped: a cached None (no secrets, no policy) is a row too. Put by
            # this method for the same kind and name, so the row is what ``load`` returns.
            row: _T = found[0]
            return row
        value = load()
        if keep(value):
            with self._lock:
                if self._generation == generation:
                    self._cache.put(tenant, (kind, name), (value,), estimate_bytes(value) + 64 + len(name))
        return value

    def invalidate(self, change: Change) -> None:
        """Drops the rows ``change`` names (all of them for ``Change(None)``)."""
        with self._lock:
            self._generation += 1
            if change.kind is None:
                self._cache.clear()
            else:
                self._cache.drop(change.tenant, lambda key: key[0] == change.kind)  # type: ignore[index]  # RowCache's keys are (kind, name)

    def info(self) -> dict[str, int]:
        return self._cache.info()
