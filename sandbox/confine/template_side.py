"""The template's side of the confinement: ``prepare_template``, run ONCE.

Trusted code, run by the template process (``sandbox/template/forkserver.py``) after it
imported the child runtime and before it forks any child. Everything it does is inherited
by every child through ``fork()``:

- user namespace (only when the template is not privileged: a developer's laptop, a
  customer's CLI); the one outside uid is mapped to ``config.uid_base`` inside;
- network namespace: no interface but ``lo``, and ``lo`` is left DOWN, so no IP traffic
  at all, not even to 127.0.0.1 (there is nothing to talk to, and a loopback that is up
  would be a channel between children that share this namespace);
- IPC and UTS namespaces (SysV IPC and POSIX message queues of the host are out of
  reach; the hostname is ``config.hostname``);
- mount namespace, propagation private, whose root is a small READ-ONLY tmpfs, entered
  with ``pivot_root``, the old root detached, then a chroot into its ``/jail``, which
  holds one empty directory, ``/tmp``: no /proc, no /etc, no /dev, no project files, no
  other tenant's code (and, being chrooted, no user namespace either);
- the capability bounding and ambient sets emptied, ``PR_SET_NO_NEW_PRIVS`` (sticky, so
  set once here, not per child), ``RLIMIT_CORE`` 0, not dumpable, SIGXCPU and SIGPROF at
  their default action and unblocked;
- the seccomp filter compiled ONCE, with pyseccomp, to classic BPF bytes (``seccomp.py``).

Nothing is imported lazily after ``pivot_root``: there is no filesystem left to import
from. ``DEFAULT_PRELOAD`` names what the child runtime would otherwise import on first
use; ``prepare_template`` imports it (and ``config.preload_modules``) first.
"""

from __future__ import annotations

import ctypes
import errno
import importlib
import logging
import os
import resource
import signal
from collections.abc import Sequence

from sandbox.confine.config import ConfinementConfig, Prepared
from sandbox.confine.seccomp import compile_seccomp_bpf, sock_fprog
from sandbox.confine.syscalls import (
    CAP_SETGID,
    CAP_SETPCAP,
    CAP_SETUID,
    CAP_SYS_ADMIN,
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWUSER,
    CLONE_NEWUTS,
    LINUX_CAPABILITY_VERSION_3,
    MNT_DETACH,
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    PR_CAP_AMBIENT,
    PR_CAP_AMBIENT_CLEAR_ALL,
    PR_CAPBSET_DROP,
    PR_SET_DUMPABLE,
    PR_SET_NO_NEW_PRIVS,
    CapData,
    CapHeader,
    EmptyCaps,
    capget,
    check,
    fail,
    mount,
    prctl,
    sethostname,
    syscall,
    umount2,
    unshare,
)
from sandbox.errors import ConfinementUnavailable

# The one logger of the confinement (tests/confine_harness.py collects its warnings by name).
log = logging.getLogger("toolpool.confine")

# What the template imports before pivot_root (there is no filesystem afterwards).
DEFAULT_PRELOAD: tuple[str, ...] = (
    "json",
    "datetime",
    "re",
    "math",
    "random",
    "time",
    "marshal",
    "struct",
    "_strptime",  # datetime.strptime / time.strptime import it on first use
    "calendar",
    "locale",  # ... and _strptime's own imports
    "traceback",
    "linecache",
    "tokenize",
    "ast",  # traceback imports ast lazily to place the ^^^^ under the failing expression
    "threading",  # the self-test starts a thread
    "ctypes",
    "errno",
    "resource",
    "select",
    "socket",
    # Codecs are looked up, and imported, on first use of an encoding name.
    "encodings.ascii",
    "encodings.latin_1",
    "encodings.utf_8",
    "encodings.utf_16",
    "encodings.utf_32",
    "encodings.cp1252",
    "encodings.unicode_escape",
    "encodings.raw_unicode_escape",
    "encodings.idna",
    "encodings.punycode",
    "encodings.base64_codec",
    "encodings.hex_codec",
    "unicodedata",
    "stringprep",
    "sandbox.child.probes",
)

_ROOT_CANDIDATES = ("/tmp", "/mnt", "/run", "/var/tmp")  # any existing dir will do
_ALLOWED_ENV = frozenset({"LC_CTYPE"})  # CPython sets it itself (PEP 538) in an empty env


def prepare_template(config: ConfinementConfig) -> Prepared:
    """Confine the calling (template) process once, for every child it will fork.

    The caller must be the single-threaded template, exec'd with an empty environment,
    with the child runtime already imported: afterwards there is no filesystem. Raises
    ``ConfinementUnavailable(feature, detail)`` naming the first missing kernel feature;
    the process is then half-confined and must exit.
    """
    if not config.enabled:
        log.warning(
            "INSECURE: confinement is DISABLED (ConfinementConfig(enabled=False)). "
            "Children keep the template's filesystem, network, uid and syscalls; "
            "only fds are closed and rlimits set. Never run tenants' code like this."
        )
        return Prepared(config=config, mode="disabled", template_pid=os.getpid(), hard_limits=_hard_limits())
    for name in ("test_only_without_seccomp", "test_only_without_network_namespace"):
        if getattr(config, name):
            log.warning("TEST ONLY: %s is set; this confinement is weakened on purpose", name)

    _check_single_threaded()
    _check_environment()
    _preload(DEFAULT_PRELOAD + config.preload_modules)
    bpf = b"" if config.test_only_without_seccomp else compile_seccomp_bpf()
    pivot_root_nr = _syscall_number("pivot_root")

    privileged = os.geteuid() == 0 and _has_caps(CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID, CAP_SETPCAP)
    if not privileged:
        _enter_user_namespace(config.uid_base)
    _unshare_namespace(CLONE_NEWNS, "mount namespaces")
    if not config.test_only_without_network_namespace:
        _unshare_namespace(CLONE_NEWNET, "network namespaces")  # lo stays down
    _unshare_namespace(CLONE_NEWIPC, "ipc namespaces")
    _unshare_namespace(CLONE_NEWUTS, "uts namespaces")
    hostname = config.hostname.encode()
    check(sethostname(hostname, len(hostname)), "uts namespaces", "sethostname")
    _enter_minimal_root(pivot_root_nr)
    _restrict_inherited_state()

    fprog = sock_fprog(bpf) if bpf else None
    return Prepared(
        config=config,
        mode="privileged" if privileged else "user-namespace",
        template_pid=os.getpid(),
        bpf=bpf,
        hard_limits=_hard_limits(),
        _fprog=fprog,
        _fprog_address=ctypes.addressof(fprog) if fprog is not None else 0,
        _empty_caps=EmptyCaps(),
    )


_RLIMITS = (
    resource.RLIMIT_CPU,
    resource.RLIMIT_AS,
    resource.RLIMIT_FSIZE,
    resource.RLIMIT_NOFILE,
    resource.RLIMIT_CORE,
    resource.RLIMIT_NPROC,
)


def _hard_limits() -> dict[int, int]:
    return {which: resource.getrlimit(which)[1] for which in _RLIMITS}


def _effective_caps() -> int:
    header = CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = (CapData * 2)()
    check(capget(header, data), "capabilities", "capget")
    effective: int = data[0].effective | (data[1].effective << 32)  # two c_uint32 fields
    return effective


def _syscall_number(name: str) -> int:
    try:
        import pyseccomp
    except (ImportError, RuntimeError, OSError) as exc:
        raise ConfinementUnavailable("seccomp", f"pyseccomp/libseccomp unavailable: {exc}") from exc
    nr: int = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name)  # pyseccomp is untyped
    if nr < 0:
        raise ConfinementUnavailable(name, f"no {name} system call on this architecture")
    return nr


def _check_single_threaded() -> None:
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError as exc:
        raise ConfinementUnavailable("proc", f"/proc/self/task is unreadable: {exc}") from exc
    if len(tasks) != 1:
        raise ConfinementUnavailable(
            "single-threaded template", f"{len(tasks)} threads: namespaces and fork() need a single-threaded template"
        )


def _check_environment() -> None:
    """A child can read its whole address space, the environment block included."""
    extra = sorted(set(os.environ) - _ALLOWED_ENV)
    if extra:
        raise ConfinementUnavailable(
            "empty environment", f"the template must be exec'd with env={{}}; found {', '.join(extra)}"
        )
    os.environ.clear()


def _preload(modules: Sequence[str]) -> None:
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfinementUnavailable("preload", f"cannot import {module}: {exc}") from exc


def _has_caps(*caps: int) -> bool:
    effective = _effective_caps()
    return all(effective >> cap & 1 for cap in caps)


def _enter_user_namespace(inner_uid: int) -> None:
    """Unprivileged path: a user namespace in which this process has every capability.

    Only the caller's own uid can be mapped without a setuid helper, so it appears as
    ``inner_uid`` inside and every child shares it.
    """
    outer_uid, outer_gid = os.geteuid(), os.getegid()
    # A process that changed uid is not dumpable, and /proc/self/uid_map is then root's.
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    if unshare(CLONE_NEWUSER) != 0:
        raise fail(
            "user namespaces",
            "unshare(CLONE_NEWUSER) for an unprivileged template (check the sysctls "
            "user.max_user_namespaces, kernel.unprivileged_userns_clone and AppArmor's "
            "kernel.apparmor_restrict_unprivileged_userns)",
        )
    try:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{inner_uid} {outer_uid} 1\n")
        _write("/proc/self/gid_map", f"{inner_uid} {outer_gid} 1\n")
    except OSError as exc:
        raise ConfinementUnavailable("user namespaces", f"writing the id maps: {exc}") from exc


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _unshare_namespace(flag: int, feature: str) -> None:
    check(unshare(flag), feature, f"unshare({feature})")


def _enter_minimal_root(pivot_root_nr: int) -> None:
    """pivot_root into a read-only tmpfs, detach the old root, chroot into its /jail.

    Children see ``/`` = the jail, holding one empty directory, ``/tmp``. The chroot is
    a second lock on user namespaces: the kernel refuses CLONE_NEWUSER to a process whose
    root is not its mount namespace's root (create_user_ns: current_chrooted), so that
    door stays shut even if the seccomp filter were gone. Children cannot chroot back out:
    that needs CAP_SYS_CHROOT, and they hold no fd to anything outside.
    """
    check(mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount namespaces", "making / private (recursive)")
    where = next((p for p in _ROOT_CANDIDATES if os.path.isdir(p)), None)
    if where is None:
        raise ConfinementUnavailable("mount namespaces", f"no mount point among {_ROOT_CANDIDATES}")
    target = where.encode()
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    check(
        mount(b"toolpool-root", target, b"tmpfs", flags, b"size=64k,nr_inodes=16,mode=0755"),
        "tmpfs",
        f"mounting the new root on {where}",
    )
    os.makedirs(os.path.join(where, "jail", "tmp"), 0o755)
    check(
        mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags, None),
        "mount namespaces",
        "remounting the new root read-only",
    )
    os.chdir(where)
    # pivot_root(".", "."): the old root ends up stacked on the new one; detaching "."
    # then removes it, with no put_old directory needed in the (read-only) new root.
    if syscall(ctypes.c_long(pivot_root_nr), b".", b".") != 0:
        raise fail("pivot_root", "pivot_root('.', '.')")
    check(umount2(b".", MNT_DETACH), "pivot_root", "detaching the old root")
    os.chroot("/jail")
    os.chdir("/")
    if sorted(os.listdir("/")) != ["tmp"]:
        raise ConfinementUnavailable("mount namespaces", f"the new root holds {os.listdir('/')}")


def _restrict_inherited_state() -> None:
    """Settings every child inherits through fork, set once here instead of per child."""
    for cap in range(64):  # until the kernel says EINVAL: past its last capability
        if prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            if ctypes.get_errno() == errno.EINVAL and cap > 0:
                break
            raise fail("capabilities", f"dropping capability {cap} from the bounding set")
    check(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "capabilities", "clearing the ambient set")
    # Sticky for the template and every descendant: no execve can ever gain privileges.
    check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs", "PR_SET_NO_NEW_PRIVS")
    check(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "dumpable", "PR_SET_DUMPABLE 0")
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # No process below the template may raise its priority (setpriority is allowed to
    # lower one's own: a compile worker does), whatever the host's default.
    resource.setrlimit(resource.RLIMIT_NICE, (0, 0))
    # RLIMIT_CPU must end in SIGXCPU and the per-call ITIMER_PROF in SIGPROF: default
    # action (terminate), not blocked. Set here rather than per child (87 us there, in
    # page faults); the template must leave them so, and the self-test's limits.cpu probe
    # checks that it did.
    for sig in (signal.SIGXCPU, signal.SIGPROF):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGXCPU, signal.SIGPROF))


__all__ = ["DEFAULT_PRELOAD", "prepare_template"]
