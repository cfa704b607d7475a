"""A CPU share per tenant, enforced by the kernel: one cgroup per tenant, under one parent.

Runs in the supervisor (``sandbox/supervisor/pool.py``), never in a child; trusts its configuration
and the kernel's files, nothing a child wrote. The supervisor writes a ready child's pid
into its tenant's group *before* the call's frame is sent; the child could not move
itself (its root has no ``/sys`` and no ``/proc``). Layout, under ``root`` (default: this
process's own cgroup of the cpu controller)::

    <root>/toolpool-<pid>-<n>/            one per pool, removed at close; weight: default x CPUs
        tenant-<slug>-<sha256 prefix>/    one per tenant: cpu.shares | cpu.weight (+ a quota)

The pool's group weighs what its children would without groups when they keep every CPU
busy, so turning groups on does not shrink its share against the host's other work; in
it, tenants share by weight. A tenant's name becomes ``[a-z0-9_-]`` and a 64-bit hash of
the whole name: no name leaves the parent (``..``, ``/``, NUL), no two share a group.
Weights are on v2's ``cpu.weight`` scale (100 an even share; v1 ``cpu.shares`` = weight x
10.24); ``max_percent`` caps a tenant at that share of one CPU (``cpu.max`` /
``cpu.cfs_quota_us``). Empty groups idle ``idle_seconds`` go; making group
``max_groups + 1`` removes the least recently used empty one.

Finding the hierarchy, preparing it and keeping moves cheap is ``sandbox/supervisor/cgroup_host.py``.

Where the host allows none of this (not root, a read-only or missing hierarchy, no cpu
controller), ``open`` says why in ``status`` ("off: <reason>"), logs it once, and every
``join`` is a no-op: the kernel schedules per process, as without groups.
"""

from __future__ import annotations

import collections
import errno
import hashlib
import itertools
import logging
import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from sandbox.supervisor import cgroup_host as host
from sandbox.supervisor.cgroup_host import Unavailable

log = logging.getLogger("toolpool.cgroups")

PERIOD_US = 100_000
_UNSAFE = re.compile(r"[^a-z0-9_-]+")
_serial = itertools.count()  # parent groups of this process's pools: toolpool-<pid>-<n>
_CLOSE_WAIT_S = 2.0  # children killed at close may take a moment to leave their groups


@dataclass(frozen=True)
class TenantCpu:
    """One tenant's CPU: ``weight`` (cpu.weight scale, 100 an even share) and an optional
    cap, ``max_percent`` of one CPU (0: none; 150: one and a half CPUs)."""

    weight: int = 100
    max_percent: int = 0

    def __post_init__(self) -> None:
        if type(self.weight) is not int or not 1 <= self.weight <= 10_000:
            raise ValueError(f"a CPU weight must be an integer in [1, 10000], got {self.weight!r}")
        if type(self.max_percent) is not int or not 0 <= self.max_percent <= 100_000:
            raise ValueError(f"max_percent must be an integer in [0, 100000] (0: no cap), got {self.max_percent!r}")

    def v1_files(self) -> dict[str, str]:
        files = {"cpu.shares": str(max(2, min(262_144, round(self.weight * 1024 / 100))))}
        if self.max_percent:
            files["cpu.cfs_period_us"] = str(PERIOD_US)
            files["cpu.cfs_quota_us"] = str(max(1000, self.max_percent * PERIOD_US // 100))
        return files

    def v2_files(self) -> dict[str, str]:
        files = {"cpu.weight": str(self.weight)}
        if self.max_percent:
            files["cpu.max"] = f"{max(1000, self.max_percent * PERIOD_US // 100)} {PERIOD_US}"
        return files


@dataclass(frozen=True)
class CgroupConfig:
    """Per-tenant CPU groups. Off unless ``enabled`` (the service turns it on)."""

    enabled: bool = False
    root: str | None = None  # the cgroup to make toolpool's group in; None: this process's own (cpu)
    default: TenantCpu = field(default_factory=TenantCpu)
    tenants: tuple[tuple[str, TenantCpu], ...] = ()  # per-tenant overrides
    max_groups: int = 256
    idle_seconds: float = 60.0

    def __post_init__(self) -> None:
        pairs = self.tenants.items() if isinstance(self.tenants, Mapping) else self.tenants
        object.__setattr__(self, "tenants", tuple((str(t), c) for t, c in pairs))  # frozen, hashable
        if not all(isinstance(c, TenantCpu) for _, c in self.tenants):
            raise ValueError("tenants: each value must be a TenantCpu")
        if self.max_groups < 1:
            raise ValueError("max_groups must be at least 1")
        if not self.idle_seconds >= 0:
            raise ValueError("idle_seconds must be >= 0")

    def cpu_of(self, tenant: str) -> TenantCpu:
        """Looked up when a tenant's group is made (rarely), so a scan does."""
        return next((cpu for name, cpu in self.tenants if name == tenant), self.default)


def group_name(tenant: str) -> str:
    """The directory of ``tenant``'s group: safe characters only, unique by a hash."""
    digest = hashlib.sha256(tenant.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    slug = _UNSAFE.sub("-", tenant.lower()).strip("-")[:32].strip("-")
    return f"tenant-{slug}-{digest}" if slug else f"tenant-{digest}"


# -- the groups ---------------------------------------------------------------------------------


class _Group:
    def __init__(self, path: str, procs_fd: int):
        self.path = path
        self.procs_fd = procs_fd  # cgroup.procs, kept open: a join is one write
        self.last_used = time.monotonic()


class TenantGroups:
    """The pool's per-tenant CPU groups. Thread-safe; every method but ``open`` is a no-op
    while ``status`` is "off: ..."."""

    def __init__(self, config: CgroupConfig):
        self.config = config
        self.status = "off: disabled (cgroups.enabled is false)" if not config.enabled else "off: not opened"
        self.parent: str | None = None
        self._version = ""
        self._lock = threading.Lock()
        self._groups: collections.OrderedDict[str, _Group] = collections.OrderedDict()  # least recent first
        self._warned = False
        self._next_sweep = 0.0
        self._keeper: host.WarmKeeper | None = None
        self.migrations = ""  # "favordynmods", "kept warm", or why neither
        self.counters: collections.Counter[str] = collections.Counter()

    # -- lifecycle ------------------------------------------------------------------------

    def open(self) -> str:
        """Make this pool's parent group and prove a tenant group can be set up in it. Logs
        the outcome once; returns ``status``."""
        if not self.config.enabled:
            return self.status
        parent = None
        try:
            version, base = host.locate(self.config.root)
            host.remove_stale(base)
            if version == "v2":
                host.enable_cpu_below(base)
            parent = os.path.join(base, f"toolpool-{os.getpid()}-{next(_serial)}")
            os.mkdir(parent, 0o755)
            self.parent, self._version = parent, version
            pool_cpu = TenantCpu(weight=min(10_000, self.config.default.weight * len(os.sched_getaffinity(0))))
            for name, value in (pool_cpu.v2_files() if version == "v2" else pool_cpu.v1_files()).items():
                host.write(os.path.join(parent, name), value)
            if version == "v2":
                host.write(os.path.join(parent, "cgroup.subtree_control"), "+cpu")
            self._remove_group(self._create(parent, "\0probe"))  # every file a tenant's group needs, written once
            self._keep_migrations_cheap(version)
        except (Unavailable, OSError) as exc:
            reason = f"{exc.filename}: {exc.strerror}" if isinstance(exc, OSError) and exc.filename else str(exc)
            self._abandon(parent)
            self.status = f"off: {reason}"
            log.warning(
                "per-tenant CPU weights are off (%s); tenants' calls share the CPU per process, as "
                "without cgroups. A host gives them with cgroup v2's cpu controller delegated to this "
                "service's cgroup, or a writable v1 cpu hierarchy (README)",
                reason,
                extra={"event": "cgroups_off"},
            )
            return self.status
        self.status = version
        log.info(
            "per-tenant CPU weights on: cgroup %s, tenant groups in %s (default weight %d; migrations: %s)",
            version,
            parent,
            self.config.default.weight,
            self.migrations,
            extra={"event": "cgroups_on"},
        )
        return self.status

    def _keep_migrations_cheap(self, version: str) -> None:
        mountinfo = host.read("/proc/self/mountinfo")
        if host.favors_dynamic_changes(mountinfo):
            self.migrations = "favordynmods"
            return
        v2, v1 = host.own_cgroup_dirs(mountinfo, host.read("/proc/thread-self/cgroup"))
        own = v2 if version == "v2" else v1
        if own is None:
            self.migrations = "slow: this thread's cgroup is not visible (mount with favordynmods)"
            return
        self._keeper = host.WarmKeeper(os.path.join(own, "cgroup.threads" if version == "v2" else "tasks"))
        self.migrations = "kept warm"

    def close(self) -> None:
        """Remove every tenant group and the parent. The caller has stopped the children."""
        with self._lock:
            groups, self._groups = list(self._groups.values()), collections.OrderedDict()
            parent, self.parent = self.parent, None
            keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.stop()
        if parent is None:
            return
        give_up = time.monotonic() + _CLOSE_WAIT_S
        for group in groups:
            os.close(group.procs_fd)
            while not host.rmdir(group.path) and time.monotonic() < give_up:
                time.sleep(0.01)  # EBUSY: a killed child not reaped yet
        if not host.rmdir(parent):
            log.warning("could not remove the cgroup %s at close: a process is still in it", parent)

    def stats(self) -> dict[str, object]:
        """A snapshot without the lock (Pool.stats holds the pool's own lock meanwhile)."""
        return {
            "cgroups": self.status,
            "cgroup_tenants": len(self._groups),
            "cgroup_migrations": self.migrations,
            **{f"count_cgroup_{k}": v for k, v in list(self.counters.items())},
        }

    def path_of(self, tenant: str) -> str | None:
        """The directory of ``tenant``'s group while it exists."""
        with self._lock:
            group = self._groups.get(tenant)
            return group.path if group is not None else None

    # -- verbs ----------------------------------------------------------------------------

    def join(self, pid: int, tenant: str) -> bool:
        """Move process ``pid`` (a ready child, or a compile worker) into ``tenant``'s group,
        making the group if needed. False when it stays where it is: groups off, the process
        already gone, or the group could not be had (counted, logged once)."""
        with self._lock:
            parent = self.parent
            if parent is None:
                return False
            for attempt in (1, 2):
                group = self._groups.get(tenant)
                try:
                    if group is None:
                        group = self._make(parent, tenant)
                        if group is None:
                            break  # max_groups groups, each with a running child
                        self._groups[tenant] = group
                    self._groups.move_to_end(tenant)
                    group.last_used = time.monotonic()
                    if self._keeper is not None:
                        self._keeper.wake()  # before the write: the next join is the one it helps
                    os.write(group.procs_fd, str(pid).encode())
                    self.counters["joins"] += 1
                    return True
                except ProcessLookupError:
                    return False  # it died while ready: the call sees its EOF
                except OSError as exc:
                    if group is not None and exc.errno in (errno.ENODEV, errno.ENOENT) and attempt == 1:
                        self._remove_group(self._groups.pop(tenant))  # removed beneath us: make it again
                        continue
                    self._warn_once(f"cannot put a child in the cgroup of tenant {tenant!r}: {exc}")
                    break
            self.counters["unplaced"] += 1
            return False

    def sweep(self) -> None:
        """Remove the groups idle for ``idle_seconds`` that are empty (rmdir refuses the
        others). Cheap to call often: at most once a second unless idle_seconds is shorter,
        and skipped while a join holds the lock."""
        if self.parent is None:
            return
        now = time.monotonic()
        if now < self._next_sweep or not self._lock.acquire(blocking=False):
            return  # the pool's manager thread calls this: never wait behind a join
        try:
            self._next_sweep = now + min(1.0, self.config.idle_seconds)
            for tenant, group in list(self._groups.items()):
                if now - group.last_used < self.config.idle_seconds:
                    break  # the rest were used more recently
                if self._remove_group(group):
                    del self._groups[tenant]
                    self.counters["removed_idle"] += 1
        finally:
            self._lock.release()

    # -- with the lock held --------------------------------------------------------------

    def _make(self, parent: str, tenant: str) -> _Group | None:
        if len(self._groups) >= self.config.max_groups and not self._evict_one():
            return None
        return self._create(parent, tenant)

    def _create(self, parent: str, tenant: str) -> _Group:
        cpu = self.config.cpu_of(tenant)
        path = os.path.join(parent, group_name(tenant))
        os.makedirs(path, 0o755, exist_ok=True)  # left by a half-made attempt: finish it
        for name, value in (cpu.v2_files() if self._version == "v2" else cpu.v1_files()).items():
            host.write(os.path.join(path, name), value)
        return _Group(path, os.open(os.path.join(path, "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC))

    def _evict_one(self) -> bool:
        """Remove the least recently used empty group; False when every group has a process."""
        for tenant, group in self._groups.items():
            if self._remove_group(group):
                del self._groups[tenant]
                self.counters["evicted"] += 1
                return True
        self._warn_once(
            f"all {self.config.max_groups} tenant groups (cgroups.max_groups) have running "
            "children; a new tenant's child stays in the supervisor's group"
        )
        return False

    def _remove_group(self, group: _Group) -> bool:
        if not host.rmdir(group.path):
            return False
        os.close(group.procs_fd)
        return True

    def _warn_once(self, message: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("%s (logged once; see the pool's count_cgroup_* counters)", message)

    def _abandon(self, parent: str | None) -> None:
        """Undo a start-up that failed half-way (best effort: only empty groups can go)."""
        for group in self._groups.values():
            os.close(group.procs_fd)
        self._groups.clear()
        self.parent = None
        if parent is not None:
            host.remove_tree(parent)
