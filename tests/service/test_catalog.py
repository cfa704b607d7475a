"""The replica's caches for the Execute path (worker/catalog.py): compiled versions under a
byte bound, never invalidated; mutable rows dropped on the store's change events, and
never put back stale by a fill that raced an invalidation."""

from __future__ import annotations

import threading

from sandbox.compile.compiler import compile_bundle
from worker.catalog import BundleCache, RowCache, bundle_size
from worker.store import ALIAS, EGRESS, SECRETS, Change


def bundle(n: int, padding: int = 0):
    return compile_bundle({"tools.py": f"def f{n}(conv):\n    return '{'x' * padding}'\n"})


def test_bundles_are_evicted_least_recently_used_first_to_stay_under_the_byte_bound():
    a, b, c = bundle(1, 2000), bundle(2, 2000), bundle(3, 2000)
    cache = BundleCache(max_bytes=bundle_size(a) + bundle_size(b) + 10)
    cache.put(("t", "a"), a)
    cache.put(("t", "b"), b)
    assert cache.get(("t", "a")) is a  # a is now the most recently used
    cache.put(("t", "c"), c)
    assert cache.get(("t", "b")) is None and cache.get(("t", "a")) is a and cache.get(("t", "c")) is c
    info = cache.info()
    assert info["bytes"] == bundle_size(a) + bundle_size(c) <= info["max_bytes"]
    huge = bundle(4, 50_000)
    cache.put(("t", "huge"), huge)  # larger than the whole cache: not kept, nothing evicted for it
    assert cache.get(("t", "huge")) is None and cache.get(("t", "a")) is a


def test_rows_are_served_until_their_tenant_and_kind_change():
    cache, loads = RowCache(), []

    def load(value):
        loads.append(value)
        return value

    assert cache.lookup(SECRETS, "acme", "", lambda: load({"k": "1"})) == {"k": "1"}
    assert cache.lookup(SECRETS, "acme", "", lambda: load({"k": "2"})) == {"k": "1"}  # cached
    cache.invalidate(Change(EGRESS, "acme"))  # another kind
    cache.invalidate(Change(SECRETS, "globex"))  # another tenant
    assert cache.lookup(SECRETS, "acme", "", lambda: load({"k": "3"})) == {"k": "1"}
    cache.invalidate(Change(SECRETS, "acme"))
    assert cache.lookup(SECRETS, "acme", "", lambda: load({"k": "4"})) == {"k": "4"}
    cache.lookup(ALIAS, "acme", "latest", lambda: load("v1"))
    cache.invalidate(Change(None))  # after a reconnect: everything
    assert cache.lookup(ALIAS, "acme", "latest", lambda: load("v2")) == "v2"
    assert loads == [{"k": "1"}, {"k": "4"}, "v1", "v2"]


def test_a_missing_alias_is_not_cached():
    cache = RowCache()
    assert cache.lookup(ALIAS, "acme", "x", lambda: None, keep=lambda v: v is not None) is None
    assert cache.lookup(ALIAS, "acme", "x", lambda: "v1", keep=lambda v: v is not None) == "v1"


def test_a_fill_that_raced_an_invalidation_does_not_put_the_old_row_back():
    cache = RowCache()
    reading, invalidated = threading.Event(), threading.Event()

    def slow_old_read():
        reading.set()
        invalidated.wait(5)
        return "old"  # read before the change committed, returned after it was announced

    filler = threading.Thread(target=lambda: cache.lookup(ALIAS, "acme", "live", slow_old_read))
    filler.start()
    reading.wait(5)
    cache.invalidate(Change(ALIAS, "acme"))
    invalidated.set()
    filler.join(5)
    assert cache.lookup(ALIAS, "acme", "live", lambda: "new") == "new"
