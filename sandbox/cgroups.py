"""A CPU share per tenant, enforced by the kernel: one cgroup per tenant, under one parent.

Runs in the supervisor (``sandbox/pool.py``), never in a child. It trusts its
configuration and the kernel's files; it reads nothing a child wrote. A child cannot
move itself: its root holds no ``/sys`` and no ``/proc`` (``sandbox/confine.py``), and the
supervisor writes the pid of a ready child into its tenant's group *before* the call's
frame is sent, so the tool's first instruction already runs under the tenant's weight.

Layout, under ``root`` (by default this process's own cgroup of the cpu controller)::

    <root>/toolpool-<pid>-<n>/                  one per pool, removed at close; weight: default x CPUs
        tenant-<slug>-<sha256 prefix>/          one per tenant: cpu.shares | cpu.weight (+ quota)

The pool's group weighs one default weight per CPU the pool may use: what its children
weigh together without groups when they keep every CPU busy, so turning groups on does
not shrink the pool's share of the machine against the host's other work (the server's
own threads, other services); within it, tenants share by their weights.

A tenant's name becomes ``[a-z0-9_-]`` characters and a 64-bit hash of the whole name, so
no name reaches outside the parent (``..``, ``/``, NUL) and two names never share a group.

Weights are on cgroup v2's ``cpu.weight`` scale (1-10000, 100 an even share); under v1
``cpu.shares`` is the weight x 10.24 (100 -> 1024). ``max_percent`` (0: none) caps a
tenant at that percentage of one CPU per 100 ms period (``cpu.max`` /
``cpu.cfs_quota_us``). Groups a tenant no longer uses are removed once empty and idle
``idle_seconds``, and at most ``max_groups`` exist: making one more removes the least
recently used empty group first. Under v2 the parent's parent must have ``+cpu`` in its
``cgroup.subtree_control``; when processes sit in it (the "no internal processes" rule)
they are moved to a leaf ``toolpool-supervisor`` first (delegation, README).

Moving a process between cgroups takes the kernel's global ``cgroup_threadgroup_rwsem`` for
writing. Unless a cgroup hierarchy is mounted with ``favordynmods``, a writer after a quiet
spell first waits out an RCU grace period (measured on the 2-vCPU VM: 10-20 ms, on the
call's critical path), while a writer within a grace period of the last one does not.
Without ``favordynmods``, a thread of the pool's (``_WarmKeeper``) therefore re-writes its
own thread id into the cgroup it is already in every 8 ms for a few seconds after each
join: nothing moves, each write costs about 30 us, and a join then costs 30-60 us.

Where the host allows none of this (not root, a read-only or missing hierarchy, no cpu
controller) ``open`` says so in ``status`` (``"off: <reason>"``), logs it once, and every
``join`` is a no-op: calls run as before, scheduled by the kernel per process.
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
from dataclasses import dataclass, field
from typing import Mapping

log = logging.getLogger("toolpool.cgroups")

PERIOD_US = 100_000
SUPERVISOR_LEAF = "toolpool-supervisor"
_PARENT_RE = re.compile(r"toolpool-(\d+)-(\d+)")
_UNSAFE = re.compile(r"[^a-z0-9_-]+")
_serial = itertools.count()
_CLOSE_WAIT_S = 2.0  # children killed at close may take a moment to leave their groups
_WARM_INTERVAL_S = 0.008  # well within an RCU grace period (writers 20 ms apart already wait at times)
_WARM_WINDOW_S = 5.0  # after the last join; then the keeper sleeps until the next one


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


class Unavailable(Exception):
    """Why this host gives toolpool no CPU groups (becomes ``status``: "off: <reason>")."""


# -- finding the hierarchy -------------------------------------------------------------------


def _unescape(path: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), path)


def own_cgroup_dirs(mountinfo: str, proc_cgroup: str) -> tuple[str | None, str | None]:
    """This process's cgroup directory under cgroup v2 and under a v1 hierarchy with the cpu
    controller, from the texts of /proc/self/mountinfo and /proc/self/cgroup."""
    paths: dict[str, str] = {}
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            key = "v2" if parts[0] == "0" and parts[1] == "" else ("v1" if "cpu" in parts[1].split(",") else "")
            if key:
                paths[key] = parts[2]
    found: dict[str, str] = {}
    for line in mountinfo.splitlines():
        fields = line.split()
        if " - " not in line or len(fields) < 5:
            continue
        fstype, _source, options = line.split(" - ", 1)[1].split()[:3]
        key = "v2" if fstype == "cgroup2" else ("v1" if fstype == "cgroup" and "cpu" in options.split(",") else "")
        if not key or key not in paths or key in found:
            continue
        mount_root, mount_point, path = _unescape(fields[3]), _unescape(fields[4]), paths[key]
        if mount_root != "/" and (path == mount_root or path.startswith(mount_root + "/")):
            path = path[len(mount_root):]
        elif mount_root != "/":
            path = "/"  # our cgroup is outside this mount's view: use what it shows
        found[key] = os.path.normpath(mount_point + "/" + path.lstrip("/"))
    return found.get("v2"), found.get("v1")


def favors_dynamic_changes(mountinfo: str) -> bool:
    """Whether a cgroup hierarchy is mounted with ``favordynmods`` (the kernel's option for
    cheap migrations; it acts for every hierarchy at once)."""
    return any(" - cgroup" in line and "favordynmods" in line.split(" - ", 1)[1].split()[2].split(",")
               for line in mountinfo.splitlines() if " - " in line and len(line.split(" - ", 1)[1].split()) > 2)


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def locate(root: str | None) -> tuple[str, str]:
    """("v1" | "v2", directory) toolpool may make its group in. Raises Unavailable."""
    if root is not None:
        if not os.path.isdir(root):
            raise Unavailable(f"{root}: no such directory")
        if os.path.exists(os.path.join(root, "cgroup.controllers")):
            if "cpu" not in _read(os.path.join(root, "cgroup.controllers")).split():
                raise Unavailable(f"{root}: the cpu controller is not delegated to this cgroup (v2)")
            return "v2", root
        if os.path.exists(os.path.join(root, "cpu.shares")):
            return "v1", root
        raise Unavailable(f"{root} is not a cgroup of the cpu controller (no cpu.shares, no cgroup.controllers)")
    try:
        v2, v1 = own_cgroup_dirs(_read("/proc/self/mountinfo"), _read("/proc/self/cgroup"))
    except OSError as exc:
        raise Unavailable(f"cannot read /proc/self: {exc.strerror}") from None
    if v2 is not None and os.path.exists(f"{v2}/cgroup.controllers") and \
            "cpu" in _read(f"{v2}/cgroup.controllers").split():
        return "v2", v2
    if v1 is not None and os.path.isdir(v1):
        return "v1", v1
    if v2 is not None:
        raise Unavailable(f"cgroup v2 at {v2} has no cpu controller delegated, and no v1 cpu hierarchy is mounted")
    raise Unavailable("no cgroup hierarchy with the cpu controller is mounted")


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
        self._keeper: _WarmKeeper | None = None
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
            version, base = locate(self.config.root)
            _remove_stale(base)
            if version == "v2":
                _enable_cpu_below(base)
            parent = os.path.join(base, f"toolpool-{os.getpid()}-{next(_serial)}")
            os.mkdir(parent, 0o755)
            self.parent, self._version = parent, version
            pool_cpu = TenantCpu(weight=min(10_000, self.config.default.weight * len(os.sched_getaffinity(0))))
            for name, value in (pool_cpu.v2_files() if version == "v2" else pool_cpu.v1_files()).items():
                _write(os.path.join(parent, name), value)
            if version == "v2":
                _write(os.path.join(parent, "cgroup.subtree_control"), "+cpu")
            probe = self._make("\0probe")  # every file a tenant's group needs, written once
            self._remove_group(probe)
            self._keep_migrations_cheap(version)
        except (Unavailable, OSError) as exc:
            reason = f"{exc.filename}: {exc.strerror}" if isinstance(exc, OSError) and exc.filename else str(exc)
            self._abandon(parent)
            self.status = f"off: {reason}"
            log.warning("per-tenant CPU weights are off (%s); tenants' calls share the CPU per process, as "
                        "without cgroups. A host gives them with cgroup v2's cpu controller delegated to this "
                        "service's cgroup, or a writable v1 cpu hierarchy (README)", reason,
                        extra={"event": "cgroups_off"})
            return self.status
        self.status = version
        log.info("per-tenant CPU weights on: cgroup %s, tenant groups in %s (default weight %d; migrations: %s)",
                 version, parent, self.config.default.weight, self.migrations, extra={"event": "cgroups_on"})
        return self.status

    def _keep_migrations_cheap(self, version: str) -> None:
        mountinfo = _read("/proc/self/mountinfo")
        if favors_dynamic_changes(mountinfo):
            self.migrations = "favordynmods"
            return
        v2, v1 = own_cgroup_dirs(mountinfo, _read("/proc/thread-self/cgroup"))
        own = v2 if version == "v2" else v1
        if own is None:
            self.migrations = "slow: this thread's cgroup is not visible (mount with favordynmods)"
            return
        self._keeper = _WarmKeeper(os.path.join(own, "cgroup.threads" if version == "v2" else "tasks"))
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
            while not _rmdir(group.path) and time.monotonic() < give_up:
                time.sleep(0.01)  # EBUSY: a killed child not reaped yet
        if not _rmdir(parent):
            log.warning("could not remove the cgroup %s at close: a process is still in it", parent)

    def stats(self) -> dict[str, object]:
        with self._lock:
            return {"cgroups": self.status, "cgroup_tenants": len(self._groups), "cgroup_migrations": self.migrations,
                    **{f"count_cgroup_{k}": v for k, v in self.counters.items()}}

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
            if self.parent is None:
                return False
            for attempt in (1, 2):
                group = self._groups.get(tenant)
                try:
                    if group is None:
                        group = self._groups[tenant] = self._make(tenant)
                    self._groups.move_to_end(tenant)
                    group.last_used = time.monotonic()
                    if self._keeper is not None:
                        self._keeper.wake()  # before the write: the next join is the one it helps
                    os.write(group.procs_fd, str(pid).encode())
                    self.counters["joins"] += 1
                    return True
                except ProcessLookupError:
                    return False  # it died while ready: the call sees its EOF
                except _Full:
                    break
                except OSError as exc:
                    if group is not None and exc.errno in (errno.ENODEV, errno.ENOENT) and attempt == 1:
                        self._forget(tenant)  # removed beneath us: make it again
                        continue
                    self._warn_once(f"cannot put a child in the cgroup of tenant {tenant!r}: {exc}")
                    break
            self.counters["unplaced"] += 1
            return False

    def sweep(self) -> None:
        """Remove the groups idle for ``idle_seconds`` that are empty (rmdir refuses the
        others). Cheap to call often: at most once a second unless idle_seconds is shorter."""
        if self.parent is None:
            return
        now = time.monotonic()
        with self._lock:
            if now < self._next_sweep:
                return
            self._next_sweep = now + min(1.0, self.config.idle_seconds)
            for tenant, group in list(self._groups.items()):
                if now - group.last_used < self.config.idle_seconds:
                    break  # the rest were used more recently
                if self._remove_group(group):
                    del self._groups[tenant]
                    self.counters["removed_idle"] += 1

    # -- with the lock held --------------------------------------------------------------

    def _make(self, tenant: str) -> _Group:
        if len(self._groups) >= self.config.max_groups and not self._evict_one():
            raise _Full
        cpu = self.config.cpu_of(tenant)
        path = os.path.join(self.parent, group_name(tenant))
        os.makedirs(path, 0o755, exist_ok=True)  # left by a half-made attempt: finish it
        for name, value in (cpu.v2_files() if self._version == "v2" else cpu.v1_files()).items():
            _write(os.path.join(path, name), value)
        return _Group(path, os.open(os.path.join(path, "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC))

    def _evict_one(self) -> bool:
        """Remove the least recently used empty group; False when every group has a process."""
        for tenant, group in self._groups.items():
            if self._remove_group(group):
                del self._groups[tenant]
                self.counters["evicted"] += 1
                return True
        self._warn_once(f"all {self.config.max_groups} tenant groups (cgroups.max_groups) have running "
                        "children; a new tenant's child stays in the supervisor's group")
        return False

    def _remove_group(self, group: _Group) -> bool:
        if not _rmdir(group.path):
            return False
        os.close(group.procs_fd)
        return True

    def _forget(self, tenant: str) -> None:
        group = self._groups.pop(tenant)
        os.close(group.procs_fd)
        _rmdir(group.path)

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
            _remove_tree(parent)


class _WarmKeeper:
    """Re-writes its own thread id into its own cgroup every ``_WARM_INTERVAL_S`` for
    ``_WARM_WINDOW_S`` after the last ``wake``, so that the kernel's threadgroup rwsem stays
    in the state where a migration does not wait for an RCU grace period (module docstring).
    Nothing moves. Stops for good, logging once, if the write ever fails."""

    def __init__(self, threads_file: str):
        self._file = threads_file
        self._last_wake = 0.0
        self._wakeup = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="toolpool-cgroup-warm", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._last_wake = time.monotonic()
        if not self._wakeup.is_set():
            self._wakeup.set()

    def stop(self) -> None:
        self._stopped.set()
        self._wakeup.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        tid = str(threading.get_native_id()).encode()
        try:
            fd = os.open(self._file, os.O_WRONLY | os.O_CLOEXEC)
        except OSError as exc:
            log.warning("cannot keep cgroup migrations cheap (%s): each call may wait ~10 ms to join its tenant's "
                        "group; mount a cgroup hierarchy with favordynmods", exc)
            return
        try:
            while self._wakeup.wait() and not self._stopped.is_set():
                if time.monotonic() - self._last_wake > _WARM_WINDOW_S:
                    self._wakeup.clear()  # asleep until the next join (a wake() racing this sets it again)
                    if time.monotonic() - self._last_wake <= _WARM_WINDOW_S:
                        self._wakeup.set()
                    continue
                os.write(fd, tid)
                self._stopped.wait(_WARM_INTERVAL_S)
        except OSError as exc:
            log.warning("stopped keeping cgroup migrations cheap (%s); mount a cgroup hierarchy with favordynmods",
                        exc)
        finally:
            os.close(fd)


class _Full(Exception):
    """max_groups groups exist and each has a running child."""


# -- file system verbs ----------------------------------------------------------------------------


def _write(path: str, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def _rmdir(path: str) -> bool:
    """True once ``path`` is gone; False while a process (or a child group) is in it."""
    try:
        os.rmdir(path)
    except FileNotFoundError:
        return True
    except OSError as exc:
        if exc.errno in (errno.EBUSY, errno.ENOTEMPTY):
            return False
        raise
    return True


def _remove_stale(base: str) -> None:
    """Empty groups left by toolpool processes that died without closing their pool."""
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        match = _PARENT_RE.fullmatch(name)
        if match is None or _alive(int(match.group(1))):
            continue
        _remove_tree(os.path.join(base, name))


def _remove_tree(parent: str) -> None:
    """rmdir ``parent``'s groups, then ``parent``; what still holds a process stays."""
    try:
        for entry in os.scandir(parent):
            if entry.is_dir(follow_symlinks=False):
                _rmdir(entry.path)
        _rmdir(parent)
    except OSError:
        pass  # best effort: a group still in use, or a read-only hierarchy


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, as another user
    return True


def _enable_cpu_below(base: str) -> None:
    """cgroup v2: give ``base``'s children the cpu controller. A cgroup with processes in it
    cannot (EBUSY, "no internal processes"), so they move to a leaf of their own first."""
    control = os.path.join(base, "cgroup.subtree_control")
    if "cpu" in _read(control).split():
        return
    try:
        _write(control, "+cpu")
        return
    except OSError as exc:
        if exc.errno != errno.EBUSY:
            raise
    leaf = os.path.join(base, SUPERVISOR_LEAF)
    os.makedirs(leaf, 0o755, exist_ok=True)
    for pid in _read(os.path.join(base, "cgroup.procs")).split():
        try:
            _write(os.path.join(leaf, "cgroup.procs"), pid)
        except ProcessLookupError:
            pass
    _write(control, "+cpu")
