"""The host side of the reliability tests (tests/faults): mounts and cgroups, root only.

Nothing here may break the machine: mounts are made on fresh temporary directories and
removed in ``finally``; cgroups are fresh children of the pids hierarchy and are emptied
and removed; processes are ended only by the ids of the ones we started.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

# -- the host: mounts and cgroups (root only) ----------------------------------------------------


def require_root() -> None:
    import pytest

    if os.geteuid() != 0:
        pytest.skip("needs root: mounts a tmpfs or creates a cgroup for the fault")


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _unmount(point: Path) -> None:
    for _ in range(20):
        if subprocess.run(["umount", str(point)], capture_output=True).returncode == 0:
            return
        time.sleep(0.25)  # a process we started may still be exiting with a file open
    subprocess.run(["umount", "-l", str(point)], capture_output=True)


@contextlib.contextmanager
def tmpfs(size: str) -> Iterator[Path]:
    """A fresh tmpfs of ``size`` mounted on a fresh directory (never over an existing path)."""
    with scratch_dir("toolpool-faults-tmpfs-") as base:
        point = base / "mnt"
        point.mkdir()
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "toolpool-faults", str(point)],
            check=True,
            capture_output=True,
        )
        try:
            yield point
        finally:
            _unmount(point)


@contextlib.contextmanager
def read_only_view(source: Path) -> Iterator[Path]:
    """A read-only bind mount of ``source`` on a fresh directory: writes there get EROFS."""
    with scratch_dir("toolpool-faults-ro-") as base:
        point = base / "ro"
        point.mkdir()
        subprocess.run(["mount", "--bind", str(source), str(point)], check=True, capture_output=True)
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(point)], check=True, capture_output=True)
            yield point
        finally:
            _unmount(point)


def fill(directory: Path) -> Path:
    """Fills the filesystem holding ``directory``; returns the filler file (delete it to free)."""
    filler = directory / f"filler-{uuid.uuid4().hex[:8]}"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    block = b"\0" * 65536
    try:
        while True:
            try:
                os.write(fd, block)
            except OSError:
                if len(block) == 512:
                    break
                block = block[: len(block) // 2]
    finally:
        os.close(fd)
    return filler


def _pids_root() -> Path:
    v1 = Path("/sys/fs/cgroup/pids")
    if (v1 / "cgroup.procs").exists():
        return v1
    v2 = Path("/sys/fs/cgroup")
    if "pids" in (v2 / "cgroup.controllers").read_text().split():
        return v2
    raise AssertionError("no pids cgroup controller on this host")


@contextlib.contextmanager
def pids_cgroup() -> Iterator[Path]:
    """A fresh pids cgroup. On exit its limit is lifted, what we started in it is killed
    (by pid: only our server's tree can be there) and the cgroup is removed."""
    path = _pids_root() / f"toolpool-faults-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            (path / "pids.max").write_text("max")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        for _ in range(50):
            try:
                path.rmdir()
                break
            except OSError:
                time.sleep(0.2)


def set_pids_max(cgroup: Path, value: int | str) -> None:
    (cgroup / "pids.max").write_text(str(value))


def pids_current(cgroup: Path) -> int:
    return int((cgroup / "pids.current").read_text())
