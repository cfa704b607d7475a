"""Caps on what a tenant uploads, and caches bounded in bytes and fair (issue 16).

The service (``ToolService``) with a real store, a real confined pool and real compiles:
each refusal is ``UploadLimit`` (INVALID_ARGUMENT, reason UPLOAD_LIMIT) naming the field,
the file and the limit's setting; it comes before anything is compiled or stored.
"""

from __future__ import annotations

import re
import threading
import time

import pytest

from worker.admission import Admission, AdmissionLimits
from worker.catalog import Budget, FairCache
from worker.config import ConfigError, load_config
from worker.errors import InvalidArgument
from worker.service import ExecuteCall, Target, ToolService
from worker.store.crypto import Keyring, new_key_text, parse_keys
from worker.store.sqlite import SQLiteStore
from worker.uploads import TenantLimits, UploadLimit, UploadLimits

TOOL = "def start_function(conv):\n    return {'utterance': 'hello %d'}\n"


class CountingGate:
    """Wraps the service's compile gate, counting the compiles that reached it."""

    def __init__(self, gate):
        self.gate = gate
        self.compiles: list[str] = []
        self.lock = threading.Lock()

    def compile(self, tenant, files, policy, *, wait_until):
        with self.lock:
            self.compiles.append(tenant)
        return self.gate.compile(tenant, files, policy, wait_until=wait_until)

    def __getattr__(self, name):
        return getattr(self.gate, name)


def make_service(tmp_path, pool, *, uploads=TenantLimits(), budget=Budget.of()):
    store = SQLiteStore(tmp_path / "t.db", Keyring(parse_keys(new_key_text())))
    admission = Admission(
        AdmissionLimits(max_concurrent=4, tenant_concurrency=2, reserved_for_start=1, max_queue=8, tenant_max_queue=4)
    )
    service = ToolService(store, pool, admission, uploads=uploads, cache_budget=budget)
    service._compiles = CountingGate(service._compiles)
    return service, store


def tool(n: int, padding: int = 0) -> dict[str, str]:
    return {"tools.py": TOOL.replace("%d", str(n)) + f"PAD = '{'x' * padding}'\n"}


@pytest.fixture
def limited(tmp_path, pool):
    acme = UploadLimits(
        files=2,
        file_bytes=300,
        bundle_bytes=500,
        filename_chars=20,
        versions=3,
        aliases=2,
        secrets=2,
        secret_bytes=10,
        policy_bytes=200,
    )
    service, store = make_service(tmp_path, pool, uploads=TenantLimits(UploadLimits(), {"acme": acme}))
    yield service
    store.close()


REFUSED = {
    "files": (
        {"a.py": "x = 1\n", "b.py": "x = 1\n", "c.py": "x = 1\n"},
        "files",
        "3 files; upload.files is 2 for tenant 'acme'",
    ),
    "file_bytes": (
        {"a.py": "x = '" + "y" * 400 + "'\n"},
        "files['a.py'].source",
        "407 bytes; upload.file_bytes is 300 for tenant 'acme'",
    ),
    "bundle_bytes": (
        {"a.py": "#" * 290 + "\n", "b.py": "#" * 290 + "\n"},
        "files['b.py'].source",
        "the bundle reaches 582 bytes with this file; upload.bundle_bytes is 500",
    ),
    "filename_chars": (
        {"tools/very_long_name.py": "x = 1\n"},
        "files['tools/very_long_name.py'].name",
        "23 characters; upload.filename_chars is 20",
    ),
    "filename_characters": ({"a b.py": "x = 1\n"}, "files['a b.py'].name", "invalid filename 'a b.py'"),
    "filename_escape": ({"../x.py": "x = 1\n"}, "files['../x.py'].name", "invalid filename '../x.py'"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_each_cap_refuses_at_once_naming_the_limit_and_the_file(limited, case):
    files, field, words = REFUSED[case]
    with pytest.raises(InvalidArgument) as refused:
        limited.deploy("acme", files, None)
    assert refused.value.field == field and words in refused.value.description, refused.value
    assert (refused.value.reason == "UPLOAD_LIMIT") == case.startswith(
        ("files", "file_bytes", "bundle", "filename_chars")
    )
    assert limited._compiles.compiles == []  # refused before any compile


def test_limits_are_per_tenant(limited):
    files = {"a.py": "def f(conv):\n    return 1\n", "b.py": "x = 1\n", "c.py": "y = 2\n"}
    with pytest.raises(UploadLimit):
        limited.deploy("acme", files, None)
    assert limited.deploy("globex", files, None).version_id  # the defaults allow 64 files


def test_versions_past_the_limit_prune_the_oldest_unaliased(limited):
    first = limited.deploy("acme", tool(0), "live").version_id
    ids = [limited.deploy("acme", tool(n), None).version_id for n in range(1, 5)]
    kept = [v.version_id for v in limited.list_versions("acme")]
    assert kept == [ids[3], ids[2], first]  # 3 kept: the aliased one and the two last stored


def test_aliases_past_the_limit_are_refused_and_nothing_is_stored(limited):
    limited.deploy("acme", tool(0), "a")
    limited.deploy("acme", tool(1), "b")
    with pytest.raises(UploadLimit) as refused:
        limited.deploy("acme", tool(2), "c")
    assert refused.value.field == "alias"
    assert (
        refused.value.description == "tenant 'acme' would have 3 aliases; upload.aliases is 2 (delete an alias first)"
    )
    assert len(limited.list_versions("acme")) == 2


def test_a_deploy_is_refused_when_aliases_name_every_version_the_limit_keeps(tmp_path, pool):
    uploads = TenantLimits(UploadLimits(versions=2, aliases=5))
    service, store = make_service(tmp_path, pool, uploads=uploads)
    service.deploy("acme", tool(0), "a")
    service.deploy("acme", tool(1), "b")
    with pytest.raises(UploadLimit) as refused:
        service.deploy("acme", tool(2), None)
    assert refused.value.field == "files" and refused.value.description == (
        "tenant 'acme' would have 3 versions; upload.versions is 2 (aliases name every version the limit keeps: "
        "move or delete an alias first)"
    )
    service.deploy("acme", tool(2), "a")  # moving "a" frees tool(0), which is pruned
    assert len(service.list_versions("acme")) == 2
    store.close()


def test_secrets_and_policies_are_capped(limited):
    with pytest.raises(UploadLimit) as big:
        limited.set_secret("acme", "k", "x" * 11)
    assert (big.value.field, big.value.description) == (
        "value",
        "11 bytes; upload.secret_bytes is 10 for tenant 'acme'",
    )
    limited.set_secret("acme", "k1", "v")
    limited.set_secret("acme", "k2", "v")
    with pytest.raises(UploadLimit) as many:
        limited.set_secret("acme", "k3", "v")
    assert many.value.description == "tenant 'acme' would have 3 secrets; upload.secrets is 2 (delete a secret first)"
    hosts = [{"pattern": f"h{i}.example.com"} for i in range(20)]
    with pytest.raises(UploadLimit) as policy:
        limited.set_egress_policy("acme", {"hosts": hosts})
    assert policy.value.field == "policy" and "upload.policy_bytes is 200" in policy.value.description


def test_tenant_limits_come_from_the_configuration(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[upload]\nfiles = 10\n[[tenant_limits]]\ntenant = "acme"\nfiles = 3\nversions = 7\n')
    limits = load_config(path, env={"HOME": str(tmp_path)}).upload_limits()
    assert (limits.of("acme").files, limits.of("acme").versions, limits.of("globex").files) == (3, 7, 10)
    for text, words in (
        ('[[tenant_limits]]\ntenant = "a"\nfiles = 0\n', "tenant_limits[0].files"),
        ('[[tenant_limits]]\ntenant = "a"\nfilez = 3\n', "unknown limit"),
        ("[[tenant_limits]]\nfiles = 3\n", 'tenant = "NAME"'),
        ("[upload]\nfile_bytes = 300000\n", "upload.file_bytes"),
    ):
        path.write_text(text)
        with pytest.raises(ConfigError, match=re.escape(words)):
            load_config(path, env={"HOME": str(tmp_path)})


# -- caches --------------------------------------------------------------------------------


def test_a_fair_cache_evicts_from_the_largest_tenant_and_stays_in_budget():
    cache: FairCache[str] = FairCache(1000)
    cache.put("acme", "a1", "A1", 100)
    cache.put("acme", "a2", "A2", 100)
    for n in range(50):  # mallory floods
        cache.put("mallory", n, "M", 100)
        assert cache.info()["bytes"] <= 1000
    assert cache.get("acme", "a1") == "A1" and cache.get("acme", "a2") == "A2"  # never evicted
    assert cache.tenant_bytes("mallory") == 800 and cache.get("mallory", 49) == "M" and cache.get("mallory", 0) is None
    cache.put("acme", "big", "X", 1001)  # larger than the whole cache: not kept, nothing evicted
    assert cache.get("acme", "big") is None and cache.tenant_bytes("acme") == 200
    cache.drop("acme", lambda key: key == "a1")
    assert cache.get("acme", "a1") is None and cache.info()["bytes"] == 900


def test_a_larger_tenant_gives_way_only_down_to_the_flooders_share():
    cache: FairCache[str] = FairCache(1000)
    for n in range(9):
        cache.put("big", n, "B", 100)
    for n in range(20):
        cache.put("flood", n, "F", 100)
    assert cache.tenant_bytes("big") >= 400 and cache.tenant_bytes("flood") <= 600


def test_a_flood_of_distinct_uploads_keeps_the_bundle_cache_in_budget_and_another_tenants_bundle(tmp_path, pool):
    budget = Budget(bundles=256 * 1024, rows=64 * 1024, egress=64 * 1024)
    service, store = make_service(tmp_path, pool, budget=budget)
    acme = service.deploy("acme", tool(0), "live").version_id
    for n in range(40):  # ~20 KB of source and code each: 3x the bundle budget
        service.deploy("mallory", tool(n, padding=10_000), None)
        assert service.cache_info()["bundles"]["bytes"] <= budget.bundles
    compiled = len(service._compiles.compiles)
    received_at = time.monotonic()
    deadline = service.deadline("start_function", 0, received_at=received_at, rpc_remaining_s=None)
    executed = service.execute(
        ExecuteCall(
            tenant="acme", target=Target(alias="live"), function="start_function", deadline=deadline, call_id="c1"
        ),
        received_at=received_at,
    )
    assert executed.version_id == acme and executed.result.action["utterance"] == "hello 0"
    assert len(service._compiles.compiles) == compiled  # served from the cache: mallory did not evict it
    info = service.cache_info()["bundles"]
    assert info["evictions"] > 0 and info["tenants"] == 2
    store.close()
