"""A CPU share per tenant (sandbox/supervisor/cgroups.py): real groups on this host's cgroup hierarchy.

These tests never skip. This machine has cgroup v1's cpu hierarchy and runs them as root,
so a pool that cannot set its groups up FAILS here, with the reason it gave. The fallback
(no writable hierarchy) is simulated through ``CgroupConfig.root``. Nothing here times
anything: a test waits for a condition, never for a duration.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.policy import DEFAULT_POLICY
from sandbox.result import Status
from sandbox.supervisor.cgroup_host import favors_dynamic_changes, own_cgroup_dirs
from sandbox.supervisor.cgroups import CgroupConfig, TenantCpu, TenantGroups, group_name
from sandbox.supervisor.confined_compile import ConfinedCompiler
from sandbox.supervisor.pool import Pool, PoolConfig
from tests.conftest import run_source
from tests.test_confine import NO_SECCOMP, result_of
from worker.config import ConfigError, load_config

REPO = Path(__file__).resolve().parent.parent
SAFE_NAME = re.compile(r"tenant-([a-z0-9_-]{1,32}-)?[0-9a-f]{16}")
SLEEPER = "import time\ndef tool(conv):\n    time.sleep(2)\n    return 'slept'\n"
QUICK = "def tool(conv):\n    return 'hi'\n"


def cgroup_pool(**cgroups) -> Pool:
    """A started pool with cgroups on; FAILS (never skips) when this host gives it none."""
    settings = {"enabled": True, **cgroups}
    pool = Pool(PoolConfig(ready_children=2, cgroups=CgroupConfig(**settings)))
    pool.start()
    status = pool.stats()["cgroups"]
    if status not in ("v1", "v2"):
        pool.close()
        pytest.fail(f"per-tenant CPU groups could not be set up on this host: {status}")
    return pool


@pytest.fixture(scope="module")
def pool():
    p = cgroup_pool(default=TenantCpu(weight=50), tenants={"heavy": TenantCpu(weight=400, max_percent=150)})
    try:
        yield p
    finally:
        p.close()


def wait_for(condition, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def cpu_cgroup_of(pid: int) -> str:
    """The process's cgroup in the hierarchy of the cpu controller (v1), else v2's."""
    lines = [line.split(":", 2) for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines()]
    v1 = [path for _, controllers, path in lines if "cpu" in controllers.split(",")]
    return v1[0] if v1 else next(path for hid, _, path in lines if hid == "0")


def relative(pool: Pool, path: str) -> str:
    """A group's directory as /proc/PID/cgroup names it (relative to the hierarchy's mount)."""
    v2, v1 = own_cgroup_dirs(Path("/proc/self/mountinfo").read_text(), Path("/proc/self/cgroup").read_text())
    mount = v1 if pool.stats()["cgroups"] == "v1" else v2
    own = cpu_cgroup_of(os.getpid())
    return os.path.normpath(os.path.join(own, os.path.relpath(path, mount)))


def child_reported(pool: Pool, pid: int) -> bool:
    return pid not in pool.child_pids()


def spy_on_joins(pool: Pool, monkeypatch) -> list[tuple[int, str, str | None]]:
    """Records each join as (pid, tenant, the process's cgroup right after it), before the
    pool goes on to send the child anything."""
    seen = []
    join = pool.cgroups.join

    def spy(pid, tenant):
        placed = join(pid, tenant)
        seen.append((pid, tenant, cpu_cgroup_of(pid) if placed else None))
        return placed

    monkeypatch.setattr(pool.cgroups, "join", spy)
    return seen


def run_and_reap(pool: Pool, tenant: str) -> None:
    """One quick call; returns once the template has reaped its child."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        seen = spy_on_joins(pool, monkeypatch)
        assert run_source(pool, QUICK, tenant=tenant).status is Status.OK
    wait_for(lambda: child_reported(pool, seen[0][0]), f"{tenant}'s child to be reaped")


# -- names, weights, hierarchies: pure --------------------------------------------------------


HOSTILE_NAMES = [
    "..",
    ".",
    "../../etc",
    "/",
    "a/b",
    "/sys/fs/cgroup",
    "\0",
    "",
    "tenant\n",
    "A" * 1000,
    "ümlaut",
    "\ud800",
    "acme",
    "ACME",
    "acme/",
    "tenant-acme-0123456789abcdef",
]


@pytest.mark.parametrize("tenant", HOSTILE_NAMES, ids=repr)
def test_a_tenant_name_becomes_one_safe_directory_name(tenant):
    name = group_name(tenant)
    assert SAFE_NAME.fullmatch(name), name
    parent = "/sys/fs/cgroup/cpu/toolpool-1-0"
    assert os.path.dirname(os.path.normpath(os.path.join(parent, name))) == parent


def test_distinct_tenants_get_distinct_groups():
    names = [group_name(t) for t in HOSTILE_NAMES]
    assert len(set(names)) == len(names)


@given(st.text(max_size=300))
def test_every_name_maps_inside_the_parent(tenant):
    name = group_name(tenant)
    assert SAFE_NAME.fullmatch(name) and len(name) <= 7 + 33 + 16
    assert group_name(tenant) == name  # stable: the same tenant finds its group again


def test_weights_on_both_versions():
    assert TenantCpu().v1_files() == {"cpu.shares": "1024"}
    assert TenantCpu().v2_files() == {"cpu.weight": "100"}
    assert TenantCpu(weight=1).v1_files() == {"cpu.shares": "10"}
    assert TenantCpu(weight=10_000).v1_files() == {"cpu.shares": "102400"}
    capped = TenantCpu(weight=400, max_percent=150)
    assert capped.v1_files() == {"cpu.shares": "4096", "cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "150000"}
    assert capped.v2_files() == {"cpu.weight": "400", "cpu.max": "150000 100000"}
    for bad in ({"weight": 0}, {"weight": 10_001}, {"weight": True}, {"max_percent": -1}):
        with pytest.raises(ValueError):
            TenantCpu(**bad)
    config = CgroupConfig(tenants={"heavy": TenantCpu(weight=400)})
    assert config.cpu_of("heavy").weight == 400 and config.cpu_of("other") == TenantCpu()


HYBRID_MOUNTINFO = """\
25 1 0:22 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
26 25 0:23 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
27 25 0:24 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
35 25 0:30 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
V2_MOUNTINFO = "30 24 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
CONTAINER_V1 = "40 30 0:23 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro,relatime - cgroup cgroup rw,cpu,cpuacct\n"


def test_the_hierarchies_are_found_from_proc():
    assert own_cgroup_dirs(HYBRID_MOUNTINFO, "4:memory:/x\n1:cpu:/svc\n0::/\n") == (
        "/sys/fs/cgroup/unified",
        "/sys/fs/cgroup/cpu/svc",
    )
    assert own_cgroup_dirs(V2_MOUNTINFO, "0::/system.slice/toolpool.service\n") == (
        "/sys/fs/cgroup/system.slice/toolpool.service",
        None,
    )
    assert own_cgroup_dirs(CONTAINER_V1, "3:cpu,cpuacct:/docker/abc/sub\n") == (None, "/sys/fs/cgroup/cpu,cpuacct/sub")
    assert own_cgroup_dirs("36 35 0:5 / /proc rw - proc proc rw\n", "0::/\n") == (None, None)


def test_favordynmods_is_read_from_any_cgroup_mount():
    assert not favors_dynamic_changes(HYBRID_MOUNTINFO) and not favors_dynamic_changes(V2_MOUNTINFO)
    assert favors_dynamic_changes(V2_MOUNTINFO.replace("nsdelegate", "nsdelegate,favordynmods"))
    assert not favors_dynamic_changes("36 35 0:5 / /x rw - tmpfs favordynmods rw\n")  # not a cgroup mount


def test_moves_are_kept_cheap(pool):
    """favordynmods, or the keeper thread (sandbox/supervisor/cgroup_host.py): never slow by default."""
    assert pool.stats()["cgroup_migrations"] in ("favordynmods", "kept warm"), pool.stats()
    if pool.stats()["cgroup_migrations"] == "kept warm":
        assert any(t.name == "toolpool-cgroup-warm" for t in threading.enumerate())


# -- the groups of a real pool -----------------------------------------------------------------


def test_the_groups_are_set_up_with_the_configured_weights(pool):
    run_and_reap(pool, "light")
    run_and_reap(pool, "heavy")
    light, heavy = Path(pool.cgroups.path_of("light")), Path(pool.cgroups.path_of("heavy"))
    assert light.parent == heavy.parent == Path(pool.cgroups.parent)
    cpus = len(os.sched_getaffinity(0))
    if pool.stats()["cgroups"] == "v1":
        assert (light.parent / "cpu.shares").read_text().strip() == str(512 * cpus)  # the pool: default x CPUs
        assert (light / "cpu.shares").read_text().strip() == "512"
        assert (light / "cpu.cfs_quota_us").read_text().strip() == "-1"
        assert (heavy / "cpu.shares").read_text().strip() == "4096"
        assert (heavy / "cpu.cfs_quota_us").read_text().strip() == "150000"
        assert (heavy / "cpu.cfs_period_us").read_text().strip() == "100000"
    else:
        assert (light.parent / "cpu.weight").read_text().strip() == str(50 * cpus)
        assert (light / "cpu.weight").read_text().strip() == "50"
        assert (heavy / "cpu.weight").read_text().strip() == "400"
        assert (heavy / "cpu.max").read_text().split() == ["150000", "100000"]


def test_a_calls_child_is_in_its_tenants_group_while_it_runs(pool):
    results = {}
    thread = threading.Thread(
        target=lambda: results.update(r=run_source(pool, SLEEPER, tenant="sleepy", deadline_ms=4000))
    )
    thread.start()
    try:
        pid = wait_for(lambda: next(iter(pool.busy_child_pids()), None), "the call's child")
        group = wait_for(lambda: pool.cgroups.path_of("sleepy"), "sleepy's group")
        assert cpu_cgroup_of(pid) == relative(pool, group)
        assert str(pid) in Path(group, "cgroup.procs").read_text().split()
        assert str(os.getpid()) not in Path(group, "cgroup.procs").read_text().split()
    finally:
        thread.join()
    assert results["r"].status is Status.OK, results["r"].error


def test_a_child_joins_before_its_frame_is_sent(pool, monkeypatch):
    seen = spy_on_joins(pool, monkeypatch)  # the spy runs before the pool sends the frame
    assert run_source(pool, QUICK, tenant="early").status is Status.OK
    assert [(tenant, group) for _, tenant, group in seen] == [("early", relative(pool, pool.cgroups.path_of("early")))]


def test_a_compile_worker_runs_in_its_tenants_group(pool, monkeypatch):
    seen = spy_on_joins(pool, monkeypatch)
    bundle = ConfinedCompiler(pool).compile(
        {"t.py": "def tool(conv):\n    return 1\n"}, DEFAULT_POLICY, tenant="deployer"
    )
    assert dict(bundle.functions) == {"tool": "t.py"}
    assert [(tenant, group) for _, tenant, group in seen] == [
        ("deployer", relative(pool, pool.cgroups.path_of("deployer")))
    ]


def test_the_compile_gate_names_the_tenant(pool, monkeypatch):
    from worker.compiles import gate_for

    seen = spy_on_joins(pool, monkeypatch)
    gate_for(pool).compile(
        "gated", {"t.py": "def tool(conv):\n    return 1\n"}, DEFAULT_POLICY, wait_until=time.monotonic() + 30
    )
    assert [tenant for _, tenant, _ in seen] == ["gated"]


def test_a_group_removed_beneath_the_pool_is_made_again(pool):
    run_and_reap(pool, "phoenix")
    path = pool.cgroups.path_of("phoenix")
    os.rmdir(path)  # empty: its child is gone
    run_and_reap(pool, "phoenix")
    assert os.path.isdir(path) and pool.cgroups.path_of("phoenix") == path


@pytest.mark.system
def test_an_idle_tenants_empty_group_is_removed():
    pool = cgroup_pool(idle_seconds=0)
    try:
        run_and_reap(pool, "leaver")
        path = os.path.join(pool.cgroups.parent, group_name("leaver"))
        pool.cgroups.sweep()  # the exit report swept already, unless the group was still busy then
        wait_for(lambda: not os.path.exists(path), "the departed tenant's group to go")
        assert pool.cgroups.path_of("leaver") is None
        assert run_source(pool, QUICK, tenant="leaver").status is Status.OK  # made again on return
    finally:
        pool.close()


@pytest.mark.system
def test_at_most_max_groups_exist_the_least_recently_used_empty_one_goes():
    pool = cgroup_pool(max_groups=2, idle_seconds=3600)
    try:
        for tenant in ("t1", "t2", "t3"):
            run_and_reap(pool, tenant)
        groups = sorted(e.name for e in os.scandir(pool.cgroups.parent) if e.is_dir())
        assert groups == sorted([group_name("t2"), group_name("t3")])
        assert pool.stats()["count_cgroup_evicted"] == 1
    finally:
        pool.close()


@pytest.mark.system
def test_every_group_is_removed_at_close():
    pool = cgroup_pool()
    parent = pool.cgroups.parent
    results = {}
    thread = threading.Thread(
        target=lambda: results.update(r=run_source(pool, SLEEPER, tenant="busy", deadline_ms=4000))
    )
    thread.start()
    wait_for(lambda: pool.busy_child_pids(), "a busy child")
    run_and_reap(pool, "done")
    pool.close()  # with a child still sleeping in its group
    thread.join()
    assert not os.path.exists(parent)


@pytest.mark.system
def test_groups_left_by_a_dead_toolpool_process_are_removed():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)  # now a pid no process has
    pool = cgroup_pool()
    try:
        base = os.path.dirname(pool.cgroups.parent)
    finally:
        pool.close()
    stale = os.path.join(base, f"toolpool-{pid}-7")
    os.makedirs(os.path.join(stale, group_name("ghost")))
    pool = cgroup_pool()
    try:
        assert not os.path.exists(stale)
    finally:
        pool.close()


@pytest.mark.system
def test_a_child_cannot_reach_any_cgroup_file():
    """The child could undo its tenant's weight only by moving itself: there is nothing to
    write to (no /sys, no /proc in its root) and no privilege to mount a hierarchy."""
    result = result_of(
        """
        def attack(ctx):
            return {
                "procs": outcome(open, "/sys/fs/cgroup/cpu/cgroup.procs", "w"),
                "self": outcome(open, "/proc/self/cgroup"),
                "mount": "ok" if libc.mount(b"cgroup", b"/tmp", b"cgroup", 0, b"cpu") == 0
                         else errno.errorcode[ctypes.get_errno()],
            }
    """,
        config=NO_SECCOMP,
    )
    assert result == {"procs": "ENOENT", "self": "ENOENT", "mount": "EPERM"}


# -- the fallback: no writable hierarchy ----------------------------------------------------


def fallback_pool(caplog, root: str) -> tuple[str, list[str]]:
    """Start a pool whose cgroups cannot be had, run calls; (status, cgroup warnings)."""
    with (
        caplog.at_level(logging.INFO, logger="toolpool.cgroups"),
        Pool(PoolConfig(ready_children=1, cgroups=CgroupConfig(enabled=True, root=root))) as pool,
    ):
        for tenant in ("a", "b", "a"):
            assert run_source(pool, QUICK, tenant=tenant).status is Status.OK
        status = pool.stats()["cgroups"]
        assert "count_cgroup_joins" not in pool.stats()
    warnings = [r.getMessage() for r in caplog.records if r.name == "toolpool.cgroups" and r.levelno >= logging.WARNING]
    return status, warnings


@pytest.mark.system
def test_no_such_root_falls_back_and_says_so_once(caplog, tmp_path):
    status, warnings = fallback_pool(caplog, str(tmp_path / "missing"))
    assert status == f"off: {tmp_path / 'missing'}: no such directory"
    assert len(warnings) == 1 and "missing" in warnings[0] and "README" in warnings[0]


@pytest.mark.system
def test_a_root_that_is_not_a_cpu_cgroup_falls_back(caplog, tmp_path):
    status, warnings = fallback_pool(caplog, str(tmp_path))
    assert status.startswith("off: ") and "is not a cgroup of the cpu controller" in status
    assert len(warnings) == 1


@pytest.mark.system
def test_disabled_is_off_without_a_warning(caplog):
    with (
        caplog.at_level(logging.INFO, logger="toolpool.cgroups"),
        Pool(PoolConfig(ready_children=1)) as pool,
    ):  # the library's default
        assert run_source(pool, QUICK).status is Status.OK
        assert pool.stats()["cgroups"].startswith("off: disabled")
    assert not [r for r in caplog.records if r.name == "toolpool.cgroups"]


READ_ONLY_SCRIPT = textwrap.dedent("""
    import json, logging, os, subprocess, sys, tempfile
    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append((record.levelname, record.getMessage()))
    logging.getLogger("toolpool.cgroups").addHandler(handler)
    logging.getLogger("toolpool.cgroups").setLevel(logging.INFO)
    from sandbox.supervisor.cgroup_host import locate
    from sandbox.supervisor.cgroups import CgroupConfig
    from sandbox.supervisor.pool import Pool, PoolConfig
    from tests.conftest import run_source
    mount = tempfile.mkdtemp()
    _, hierarchy = locate(None)
    subprocess.run(["mount", "--bind", hierarchy, mount], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", mount], check=True)
    with Pool(PoolConfig(ready_children=1, cgroups=CgroupConfig(enabled=True, root=mount))) as pool:
        statuses = [run_source(pool, "def tool(conv):\\n    return 'x'\\n", tenant=t).status.value for t in "abc"]
        print(json.dumps({"cgroups": pool.stats()["cgroups"], "statuses": statuses, "logs": records}))
""")


@pytest.mark.system
def test_a_read_only_hierarchy_falls_back_and_calls_still_run():
    """The host's cpu hierarchy bind-mounted read-only (as a container runtime mounts it),
    in a mount namespace of the test's own so the host's mounts are never touched."""
    proc = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", sys.executable, "-c", READ_ONLY_SCRIPT],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["cgroups"].startswith("off: ") and "Read-only file system" in report["cgroups"], report
    assert report["statuses"] == ["ok", "ok", "ok"]
    assert [level for level, _ in report["logs"]] == ["WARNING"], report["logs"]


def test_an_unopened_manager_does_nothing():
    groups = TenantGroups(CgroupConfig(enabled=True))
    assert groups.join(os.getpid(), "t") is False
    groups.sweep()
    groups.close()
    assert groups.status == "off: not opened"


# -- the service's configuration ---------------------------------------------------------------


def test_tenant_cpu_tables_configure_the_pool(tmp_path):
    path = tmp_path / "toolpool.toml"
    path.write_text(
        "[cgroups]\ndefault_weight = 50\nmax_groups = 16\n"
        '[[tenant_cpu]]\ntenant = "acme"\nweight = 400\nmax_percent = 150\n'
    )
    config = load_config(path, env={"HOME": str(tmp_path)}, overrides={"state_dir": str(tmp_path)})
    cgroups = config.cgroup_config()
    assert cgroups.enabled and cgroups.max_groups == 16
    assert cgroups.cpu_of("acme") == TenantCpu(weight=400, max_percent=150)
    assert cgroups.cpu_of("other") == TenantCpu(weight=50)
    assert config.describe()["tenant_cpu"] == {"acme": {"weight": 400, "max_percent": 150}}
    from worker.server import pool_config

    assert pool_config(config).cgroups == cgroups


@pytest.mark.parametrize(
    "text, words",
    [
        ('[[tenant_cpu]]\ntenant = "a"\nweight = 0\n', "tenant_cpu[0].weight: expected an integer in [1, 10000]"),
        ('[[tenant_cpu]]\ntenant = "a"\nweight = 10001\n', "tenant_cpu[0].weight"),
        ('[[tenant_cpu]]\ntenant = "a"\nmax_percent = -1\n', "tenant_cpu[0].max_percent"),
        ('[[tenant_cpu]]\ntenant = "a"\nshares = 3\n', "unknown limit; known: weight, max_percent"),
        ("[[tenant_cpu]]\nweight = 3\n", 'tenant = "NAME"'),
        ('[[tenant_cpu]]\ntenant = "a"\n[[tenant_cpu]]\ntenant = "a"\n', "two [[tenant_cpu]] tables"),
        ("[cgroups]\ndefault_weight = 0\n", "cgroups.default_weight"),
    ],
)
def test_bad_cpu_settings_are_refused_by_name(tmp_path, text, words):
    path = tmp_path / "toolpool.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(words)):
        load_config(path, env={"HOME": str(tmp_path)}, overrides={"state_dir": str(tmp_path)})
