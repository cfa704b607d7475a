"""What a replica keeps in memory of the store, for the Execute path only.

Immutable by content, mutable by name (as git keeps objects and refs):

* ``BundleCache``: compiled bundles by (tenant, version_id), least recently used out
  first, bounded by bytes (each file's source plus its marshalled code). A version id is
  the content address of its files, so an entry is never stale and is never invalidated;
  a replica that lacks one fetches the version from the store once and compiles it.
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
import threading
from typing import Any, Callable, TypeVar

from sandbox.compiler import Bundle

from worker.store import Change

_T = TypeVar("_T")
DEFAULT_BUNDLE_BYTES = 64 * 1024 * 1024
DEFAULT_ROW_ENTRIES = 10_000


def bundle_size(bundle: Bundle) -> int:
    """The bytes a compiled bundle holds, as the compile cache counts them: source + code."""
    return sum(len(tool.source) + len(tool.code) for tool in bundle.files.values())


class BundleCache:
    """Compiled bundles by (tenant, version_id), least recently used out first, within ``max_bytes``."""

    def __init__(self, max_bytes: int = DEFAULT_BUNDLE_BYTES):
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._items: collections.OrderedDict[tuple[str, str], tuple[Bundle, int]] = collections.OrderedDict()
        self._bytes = 0
        self._hits = 0
        self._misses = 0

    def get(self, key: tuple[str, str]) -> Bundle | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self._misses += 1
                return None
            self._items.move_to_end(key)
            self._hits += 1
            return item[0]

    def put(self, key: tuple[str, str], bundle: Bundle) -> None:
        size = bundle_size(bundle)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if size > self._max_bytes:
                return  # larger than the whole cache: compiled again on its next call
            self._items[key] = (bundle, size)
            self._bytes += size
            while self._bytes > self._max_bytes:
                _, (_, evicted) = self._items.popitem(last=False)
                self._bytes -= evicted

    def info(self) -> dict[str, int]:
        with self._lock:
            return {"hits": self._hits, "misses": self._misses, "entries": len(self._items),
                    "bytes": self._bytes, "max_bytes": self._max_bytes}


class RowCache:
    """Mutable rows by (kind, tenant) then name ("" for a whole-tenant row), least recently
    used tenant out first beyond ``max_entries``."""

    def __init__(self, max_entries: int = DEFAULT_ROW_ENTRIES):
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._items: collections.OrderedDict[tuple[str, str], dict[str, Any]] = collections.OrderedDict()
        self._generation = 0
        self._hits = 0
        self._misses = 0

    def lookup(self, kind: str, tenant: str, name: str, load: Callable[[], _T], *,
               keep: Callable[[_T], bool] = lambda value: True) -> _T:
        """The cached row, or ``load()``'s, cached when ``keep(row)`` and no change came meanwhile.
        Raises what ``load`` raises (StorageUnavailable), caching nothing."""
        key = (kind, tenant)
        with self._lock:
            rows = self._items.get(key)
            if rows is not None and name in rows:
                self._items.move_to_end(key)
                self._hits += 1
                return rows[name]
            self._misses += 1
            generation = self._generation
        value = load()
        if keep(value):
            with self._lock:
                if self._generation == generation:
                    self._items.setdefault(key, {})[name] = value
                    self._items.move_to_end(key)
                    while len(self._items) > self._max_entries:
                        self._items.popitem(last=False)
        return value

    def invalidate(self, change: Change) -> None:
        """Drops the rows ``change`` names (all of them for ``Change(None)``)."""
        with self._lock:
            self._generation += 1
            if change.kind is None:
                self._items.clear()
            else:
                self._items.pop((change.kind, change.tenant), None)

    def info(self) -> dict[str, int]:
        with self._lock:
            return {"hits": self._hits, "misses": self._misses, "entries": len(self._items)}
