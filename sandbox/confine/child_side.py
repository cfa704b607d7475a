"""The child's side of the confinement: ``confine_child``, run right after ``fork()``.

Trusted code, run by every child the template forks, while it is still single-threaded
and before it reads a byte of tool input; after ``confine_child`` returns the process is
hostile. Per child, in order (with confinement disabled, only the fds and rlimits):

- close every fd but ``keep_fds`` (the template's control socket, its wakeup pipe,
  anything it ever opened);
- with ``config.private_tmp``, a private mount namespace with a ``/tmp`` tmpfs of
  ``limits.tmp_bytes`` (a child's scratch files are its own and vanish with it);
- rlimits: CPU (soft below hard, so an overrun is a distinct SIGXCPU), address space,
  file size, open files;
- privileged template: drop to the child's own uid/gid with no supplementary groups,
  which clears every capability, so a child cannot signal or trace its siblings; user
  namespace (every child shares its one mapped uid): clear the capabilities explicitly;
- ``RLIMIT_NPROC`` 0: no fork and no thread;
- not dumpable, and a parent-death signal: no ptrace or /proc access by a same-uid
  process, and a child dies with its template;
- load the BPF that the template compiled (``seccomp.py``), with a raw ``prctl``.

Every object a step needs was built by the template (``Prepared``): a child's cost is
mostly first-touch page faults, and each new Python object adds some
(``bench/confine_cost.py`` times each step).
"""

from __future__ import annotations

import os
import resource
import signal
from collections.abc import Callable, Mapping, Sequence

from sandbox.confine.config import Prepared
from sandbox.confine.syscalls import (
    CLONE_NEWNS,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    PR_SET_DUMPABLE,
    PR_SET_PDEATHSIG,
    PR_SET_SECCOMP,
    SECCOMP_MODE_FILTER,
    EmptyCaps,
    capset,
    check,
    mount,
    prctl,
    unshare,
)
from sandbox.errors import ConfinementUnavailable
from sandbox.policy import Limits


def confine_child(prepared: Prepared, *, uid: int, keep_fds: Sequence[int], limits: Limits) -> None:
    """Confine the calling, freshly forked child. After it returns the process is hostile.

    The caller is a child forked by the template that called ``prepare_template``, still
    single-threaded, and must ``os._exit()`` non-zero if this raises (the child is then
    half-confined and must never run a tool). ``uid`` must lie in the config's range and
    be held by no other live child. In user-namespace mode every child runs as
    ``config.uid_base`` (the one mapped uid) and ``uid`` is only checked.
    Only the fds in ``keep_fds`` survive, at the same numbers.
    """
    for _name, step in child_steps(prepared, uid=uid, keep_fds=keep_fds, limits=limits):
        step()


def child_steps(
    prepared: Prepared, *, uid: int, keep_fds: Sequence[int], limits: Limits
) -> list[tuple[str, Callable[[], None]]]:
    """``confine_child`` as named steps, in order (bench/confine_cost.py times each)."""
    config = prepared.config
    if not config.uid_base <= uid < config.uid_base + config.uid_count:
        raise ValueError(f"uid {uid} is outside [{config.uid_base}, {config.uid_base + config.uid_count})")
    keep = tuple(sorted({int(fd) for fd in keep_fds}))
    if any(fd < 0 for fd in keep):
        raise ValueError(f"keep_fds must be fds, got {keep_fds!r}")
    hard = prepared.hard_limits
    # No fd of the template can be above its NOFILE hard limit. A bound, not 2**31: a
    # CPython built without close_range would close() every number up to it, one by one.
    nofile = hard.get(resource.RLIMIT_NOFILE, resource.RLIM_INFINITY)
    fd_bound = 1 << 20 if nofile == resource.RLIM_INFINITY or nofile <= 0 else min(nofile, 1 << 20)
    fd_bound = max(fd_bound, keep[-1] + 1 if keep else 0)
    steps: list[tuple[str, Callable[[], None]]] = [("close fds", lambda: _close_fds_except(keep, fd_bound))]
    if prepared.mode == "disabled":
        steps.append(("rlimits", lambda: _set_rlimits(limits, hard, core=True)))
        steps.append(("rlimit nproc", _limit_nproc))
        return steps
    if config.private_tmp:
        own = config.uid_base if prepared.mode == "user-namespace" else uid
        steps.append(("private /tmp", lambda: _mount_private_tmp(limits.tmp_bytes, config.tmp_inodes, own)))
    steps.append(("rlimits", lambda: _set_rlimits(limits, hard, core=False)))
    if prepared.mode == "privileged":
        steps.append(("drop uid", lambda: _become(uid)))
    else:
        steps.append(("drop capabilities", lambda: _drop_all_capabilities(prepared._empty_caps)))
    steps.append(("rlimit nproc", _limit_nproc))
    steps.append(("prctl", lambda: _arm_process_flags(prepared.template_pid)))
    if prepared.bpf:
        steps.append(("seccomp", lambda: _load_seccomp(prepared._fprog_address)))
    return steps


def _close_fds_except(keep: tuple[int, ...], bound: int) -> None:
    """Close every fd below ``bound`` but ``keep`` (close_range under os.closerange):
    the template's control socket, its wakeup pipe, anything it ever opened."""
    low = 0
    for fd in keep:
        if fd > low:
            os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, bound)


def _mount_private_tmp(size: int, inodes: int, owner: int) -> None:
    """A mount namespace of the child's own, with a tmpfs on /tmp. Both go away with the
    child (the tmpfs is freed when its last mount namespace dies), so nothing to clean."""
    check(unshare(CLONE_NEWNS), "mount namespaces", "unshare(CLONE_NEWNS) for /tmp")
    options = f"size={size},nr_inodes={inodes},mode=0700,uid={owner},gid={owner}".encode()
    check(
        mount(b"toolpool-tmp", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options),
        "tmpfs",
        "mounting the private /tmp",
    )


def _cap(which: int, soft: int, hard: int, ceilings: Mapping[int, int]) -> tuple[int, int]:
    """Never above the template's hard limit: we lack CAP_SYS_RESOURCE to raise it."""
    current = ceilings.get(which, resource.RLIM_INFINITY)
    if current != resource.RLIM_INFINITY:
        hard = min(hard, current)
        soft = min(soft, hard)
    return soft, hard


def _set_rlimits(limits: Limits, ceilings: Mapping[int, int], *, core: bool) -> None:
    # RLIMIT_CPU is the backstop behind the call's precise budget (the child's ITIMER_PROF,
    # or its deadline): it counts whole seconds of the whole process, start-up included, so
    # it sits a second above the budget, never at it (at it, it fired a few ms before a
    # deadline equal to the budget). Soft below hard so that an overrun first gets a
    # distinct SIGXCPU (cpu_limit), and the SIGKILL a second later is the kernel's last
    # word in case the tool caught or ignored SIGXCPU.
    soft, hard = _cap(resource.RLIMIT_CPU, limits.cpu_seconds + 1, limits.cpu_seconds + 2, ceilings)
    if soft == hard and soft > 0:
        soft -= 1  # the template's hard limit was lower: keep SIGXCPU distinct anyway
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    for which, value in (
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_FSIZE, limits.file_size_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files),
    ):
        resource.setrlimit(which, _cap(which, value, value, ceilings))
    if core:  # confined children inherit RLIMIT_CORE 0 (and SIGXCPU's default) from the template
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _become(uid: int) -> None:
    """setgroups([]) then setresgid/setresuid: leaving uid 0 clears every capability
    (the template never sets PR_SET_KEEPCAPS or SECBIT_KEEP_CAPS). Not re-checked here,
    per child, at the cost of a capget through new ctypes objects (~150 us of page
    faults): the start-up self-test checks the same deterministic path (cred.*)."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def _drop_all_capabilities(empty: EmptyCaps) -> None:
    """User-namespace mode: no uid change clears them, so clear them explicitly (the
    bounding and ambient sets were emptied in the template)."""
    check(capset(empty.header_address, empty.data_address), "capabilities", "capset to the empty set")


def _limit_nproc() -> None:
    # After the uid drop: the kernel ignores RLIMIT_NPROC for root. 0 means no fork and
    # no thread for this uid (which only this child holds).
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))


def _arm_process_flags(template_pid: int) -> None:
    # Not dumpable: no ptrace or /proc access by a same-uid process (every child shares
    # one uid in a user namespace). The supervisor still reads /proc/PID/statm, status
    # and schedstat: those are world-readable whatever the dumpable flag.
    check(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "dumpable", "PR_SET_DUMPABLE 0")
    # Die with the template. After the uid change, which clears the parent-death signal;
    # then check the parent is still the template, or the signal will never come.
    check(prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "parent-death signal", "PR_SET_PDEATHSIG")
    if os.getppid() != template_pid:
        raise ConfinementUnavailable("parent-death signal", "the template exited during confinement")


def _load_seccomp(fprog_address: int) -> None:
    # The raw prctl: libseccomp is not called in the child, and NO_NEW_PRIVS is inherited.
    check(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, fprog_address, 0, 0), "seccomp", "loading the filter")


__all__ = ["child_steps", "confine_child"]
