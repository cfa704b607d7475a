"""What this host's kernel offers for per-tenant CPU groups, and how to talk to it.

The supervisor's side (``sandbox/supervisor/cgroups.py`` uses it; never a child). Finds the cgroup
hierarchy with the cpu controller this process may make groups in (``locate``), prepares
it (cgroup v2: ``+cpu`` for the children of the service's cgroup, its processes first
moved to a leaf), removes groups a dead toolpool process left, and keeps moves between
cgroups cheap where no hierarchy is mounted with ``favordynmods`` (``WarmKeeper``).

Why a keeper: a move between cgroups takes the kernel's global ``cgroup_threadgroup_rwsem``
for writing; unless a hierarchy is mounted with ``favordynmods`` a writer after a quiet
spell first waits out an RCU grace period (10-20 ms on the 2-vCPU VM, on the call's
critical path), and one within a grace period of the last does not. The keeper re-writes
its own thread id into its own cgroup every 8 ms for 5 s after each ``wake``: nothing
moves, a write costs about 30 us, and a join then costs 30-60 us. It trusts nothing but
the kernel's files.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import threading
import time

log = logging.getLogger("toolpool.cgroups")

SUPERVISOR_LEAF = "toolpool-supervisor"
PARENT_RE = re.compile(r"toolpool-(\d+)-(\d+)")
_WARM_INTERVAL_S = 0.008  # well within an RCU grace period (writers 20 ms apart already wait at times)
_WARM_WINDOW_S = 5.0  # after the last wake; then the keeper sleeps until the next one


class Unavailable(Exception):
    """Why this host gives toolpool no CPU groups (becomes ``status``: "off: <reason>")."""


def _unescape(path: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), path)


def _cgroup_mounts(mountinfo: str) -> list[tuple[str, list[str], str, str]]:
    """(fstype, super options, mount root, mount point) of each cgroup mount in a mountinfo text."""
    mounts = []
    for line in mountinfo.splitlines():
        head, sep, tail = line.partition(" - ")
        fields, after = head.split(), tail.split()
        if sep and len(fields) >= 5 and len(after) >= 3 and after[0] in ("cgroup", "cgroup2"):
            mounts.append((after[0], after[2].split(","), _unescape(fields[3]), _unescape(fields[4])))
    return mounts


def own_cgroup_dirs(mountinfo: str, proc_cgroup: str) -> tuple[str | None, str | None]:
    """This process's (or thread's) cgroup directory under cgroup v2 and under a v1 hierarchy
    with the cpu controller, from the texts of /proc/self/mountinfo and /proc/self/cgroup."""
    paths: dict[str, str] = {}
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            key = "v2" if parts[0] == "0" and parts[1] == "" else ("v1" if "cpu" in parts[1].split(",") else "")
            if key:
                paths[key] = parts[2]
    found: dict[str, str] = {}
    for fstype, options, mount_root, mount_point in _cgroup_mounts(mountinfo):
        key = "v2" if fstype == "cgroup2" else ("v1" if "cpu" in options else "")
        if not key or key not in paths or key in found:
            continue
        path = paths[key]
        if mount_root != "/" and (path == mount_root or path.startswith(mount_root + "/")):
            path = path[len(mount_root) :]
        elif mount_root != "/":
            path = "/"  # our cgroup is outside this mount's view: use what it shows
        found[key] = os.path.normpath(mount_point + "/" + path.lstrip("/"))
    return found.get("v2"), found.get("v1")


def favors_dynamic_changes(mountinfo: str) -> bool:
    """Whether a cgroup hierarchy is mounted with ``favordynmods`` (the kernel's option for
    cheap migrations; it acts for every hierarchy at once)."""
    return any("favordynmods" in options for _, options, _, _ in _cgroup_mounts(mountinfo))


def read(path: str) -> str:
    with open(path) as f:
        return f.read()


def locate(root: str | None) -> tuple[str, str]:
    """("v1" | "v2", directory) toolpool may make its group in. Raises Unavailable."""
    if root is not None:
        if not os.path.isdir(root):
            raise Unavailable(f"{root}: no such directory")
        if os.path.exists(os.path.join(root, "cgroup.controllers")):
            if "cpu" not in read(os.path.join(root, "cgroup.controllers")).split():
                raise Unavailable(f"{root}: the cpu controller is not delegated to this cgroup (v2)")
            return "v2", root
        if os.path.exists(os.path.join(root, "cpu.shares")):
            return "v1", root
        raise Unavailable(f"{root} is not a cgroup of the cpu controller (no cpu.shares, no cgroup.controllers)")
    try:
        v2, v1 = own_cgroup_dirs(read("/proc/self/mountinfo"), read("/proc/self/cgroup"))
    except OSError as exc:
        raise Unavailable(f"cannot read /proc/self: {exc.strerror}") from None
    if (
        v2 is not None
        and os.path.exists(f"{v2}/cgroup.controllers")
        and "cpu" in read(f"{v2}/cgroup.controllers").split()
    ):
        return "v2", v2
    if v1 is not None and os.path.isdir(v1):
        return "v1", v1
    if v2 is not None:
        raise Unavailable(f"cgroup v2 at {v2} has no cpu controller delegated, and no v1 cpu hierarchy is mounted")
    raise Unavailable("no cgroup hierarchy with the cpu controller is mounted")


class WarmKeeper:
    """Re-writes its own thread id into its own cgroup every ``_WARM_INTERVAL_S`` for
    ``_WARM_WINDOW_S`` after the last ``wake``, so that the kernel's threadgroup rwsem stays
    in the state where a migration does not wait for an RCU grace period (the module's docstring).
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
            log.warning(
                "cannot keep cgroup migrations cheap (%s): each call may wait ~10 ms to join its tenant's "
                "group; mount a cgroup hierarchy with favordynmods",
                exc,
            )
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
            log.warning("stopped keeping cgroup migrations cheap (%s); mount a cgroup hierarchy with favordynmods", exc)
        finally:
            os.close(fd)


def write(path: str, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def rmdir(path: str) -> bool:
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


def remove_stale(base: str) -> None:
    """Empty groups left by toolpool processes that died without closing their pool."""
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        match = PARENT_RE.fullmatch(name)
        if match is None or _alive(int(match.group(1))):
            continue
        remove_tree(os.path.join(base, name))


def remove_tree(parent: str) -> None:
    """rmdir ``parent``'s groups, then ``parent``; what still holds a process stays."""
    try:
        for entry in os.scandir(parent):
            if entry.is_dir(follow_symlinks=False):
                rmdir(entry.path)
        rmdir(parent)
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


def enable_cpu_below(base: str) -> None:
    """cgroup v2: give ``base``'s children the cpu controller. A cgroup with processes in it
    cannot (EBUSY, "no internal processes"), so they move to a leaf of their own first."""
    control = os.path.join(base, "cgroup.subtree_control")
    if "cpu" in read(control).split():
        return
    try:
        write(control, "+cpu")
        return
    except OSError as exc:
        if exc.errno != errno.EBUSY:
            raise
    leaf = os.path.join(base, SUPERVISOR_LEAF)
    os.makedirs(leaf, 0o755, exist_ok=True)
    for pid in read(os.path.join(base, "cgroup.procs")).split():
        try:
            write(os.path.join(leaf, "cgroup.procs"), pid)
        except ProcessLookupError:
            pass
    write(control, "+cpu")
