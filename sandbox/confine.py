"""Kernel confinement of the child processes that run tenant tools.

Trusted code. It runs in two places, never in the supervisor:

* ``prepare_template(config)`` runs ONCE in the template process (``sandbox/template/forkserver.py``),
  after the template imported the child runtime and before it forks any child. It does
  the work that children inherit through ``fork()``:

  - user namespace (only when the template is not privileged: a developer's laptop,
    a customer's CLI); the one outside uid is mapped to ``config.uid_base`` inside;
  - network namespace: no interface but ``lo``, and ``lo`` is left DOWN, so no IP
    traffic at all, not even to 127.0.0.1 (there is nothing to talk to, and a loopback
    that is up would be a channel between children that share this namespace);
  - IPC and UTS namespaces (SysV IPC and POSIX message queues of the host are out of
    reach; the hostname is ``config.hostname``);
  - mount namespace, propagation private, whose root is a small READ-ONLY tmpfs, entered
    with ``pivot_root``, the old root detached, then a chroot into its ``/jail``, which
    holds one empty directory, ``/tmp``: no /proc, no /etc, no /dev, no project files,
    no other tenant's code (and, being chrooted, no user namespace either);
  - the capability bounding and ambient sets emptied, ``PR_SET_NO_NEW_PRIVS`` (sticky,
    so set once here, not per child), ``RLIMIT_CORE`` 0, not dumpable, SIGXCPU and
    SIGPROF at their default action and unblocked;
  - the seccomp filter compiled ONCE, with pyseccomp, to classic BPF bytes.

* ``confine_child(prepared, uid=..., keep_fds=..., limits=...)`` runs in every child
  right after ``fork()``. After it returns the process is hostile. Per child, in order:
  close every fd but ``keep_fds``; a private mount namespace with a ``/tmp`` tmpfs of
  ``limits.tmp_bytes``; rlimits; drop to the child's own uid/gid (no supplementary
  groups, no capabilities); ``RLIMIT_NPROC`` 0; not dumpable; parent-death signal;
  load the precompiled BPF.

The seccomp policy is the data in ``SECCOMP_ALLOW`` (an allowlist, one reason per row)
and ``SECCOMP_REFUSED`` (the dangerous calls, with why; they are refused by the default
action, and a test checks that no row of the allowlist ever names one of them).
Refused calls fail with EPERM rather than killing the process: the call never reaches
the kernel either way, the start-up self-test can observe every refusal in one child,
and an honest tool that tries, say, a thread gets an exception naming its line. The one
exception is a call through a foreign ABI (i386 ``int 0x80``, x32): never CPython's,
always an exploit, it kills the process (SIGSYS).

``check_probe_results`` judges the start-up self-test (``sandbox/child/probes.py``).

Test-only switches on ``ConfinementConfig`` (``test_only_*``) disable ONE layer so a test
can show that each remaining layer stops its attack on its own; production never sets
them, and ``prepare_template`` logs a warning when one is set. ``enabled=False`` is the
explicit development opt-out (``--insecure-no-confinement``).

Nothing here is imported lazily after ``pivot_root``: there is no filesystem left to
import from. ``DEFAULT_PRELOAD`` names what the child runtime would otherwise import on
first use; ``prepare_template`` imports it (and ``config.preload_modules``) first.
"""

from __future__ import annotations

import ctypes
import errno
import importlib
import logging
import os
import resource
import signal
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

from sandbox.errors import ConfinementUnavailable
from sandbox.policy import Limits

log = logging.getLogger("toolpool.confine")

# --------------------------------------------------------------------------------------
# Seccomp policy (data). Default action: ERRNO(EPERM). Bad architecture: KILL_PROCESS.
# --------------------------------------------------------------------------------------

_PROT_EXEC = 0x4
_TCGETS, _FIONBIO, _FIONCLEX, _FIOCLEX = 0x5401, 0x5421, 0x5450, 0x5451
_F_GETFD, _F_SETFD, _F_GETFL, _F_SETFL = 1, 2, 3, 4
_PR_GET_DUMPABLE, _PR_GET_SECCOMP, _PR_CAPBSET_READ, _PR_GET_NO_NEW_PRIVS = 3, 21, 23, 39


@dataclass(frozen=True)
class ArgIs:
    """A condition on one syscall argument: ``(arg & mask) == value``, or ``arg == value``
    on all 64 bits when ``mask`` is None (so garbage in the upper bits fails closed)."""

    index: int
    value: int
    mask: int | None = None


@dataclass(frozen=True)
class Allow:
    """One allowlist row. Every condition of ``when`` must hold; several rows naming the
    same syscall are alternatives."""

    syscall: str
    reason: str
    when: tuple[ArgIs, ...] = ()


def _each(syscall: str, reason: str, index: int, values: Sequence[int]) -> tuple[Allow, ...]:
    return tuple(Allow(syscall, reason, (ArgIs(index, v),)) for v in values)


SECCOMP_ALLOW: tuple[Allow, ...] = (
    # Channel and /tmp I/O. The mount namespace bounds what a path can reach.
    Allow("read", "requests on the channel, /tmp files"),
    Allow("write", "replies on the channel, /tmp files"),
    Allow("readv", "buffered reads"),
    Allow("writev", "buffered writes"),
    Allow("pread64", "file reads at an offset"),
    Allow("pwrite64", "file writes at an offset"),
    Allow("lseek", "io.open seeks and tells"),
    Allow("close", "closing its own files"),
    Allow("openat", "/tmp files; the read-only root holds nothing else"),
    Allow("newfstatat", "io.open, os.stat, traceback's linecache lookups"),
    Allow("fstat", "os.fstat"),
    Allow("getdents64", "os.listdir and os.scandir in /tmp"),
    Allow("unlink", "removing /tmp files"),
    Allow("unlinkat", "removing /tmp files"),
    Allow("mkdir", "directories in /tmp"),
    Allow("mkdirat", "directories in /tmp"),
    Allow("rmdir", "directories in /tmp"),
    Allow("rename", "renaming in /tmp"),
    Allow("renameat", "renaming in /tmp"),
    Allow("renameat2", "renaming in /tmp"),
    Allow("ftruncate", "file.truncate()"),
    Allow("getcwd", "os.getcwd() in path helpers; it is /"),
    Allow("recvfrom", "socket.recv() on the channel"),
    Allow("sendto", "socket.send() on the channel, never to an explicit address",
          (ArgIs(4, 0),)),
    Allow("getsockname", "socket.socket(fileno=channel) introspects the channel"),
    Allow("getpeername", "socket.socket(fileno=channel) introspects the channel"),
    Allow("getsockopt", "socket.socket(fileno=channel) reads SO_TYPE and friends"),
    Allow("shutdown", "half-closing the channel"),
    Allow("poll", "socket timeouts, waiting on the channel"),
    Allow("ppoll", "waiting on the channel"),
    Allow("select", "select.select on the channel"),
    Allow("pselect6", "select.select on the channel"),
    *_each("ioctl", "TCGETS: io.open asks isatty(); FIONBIO: socket timeouts; "
           "FIOCLEX/FIONCLEX: os.set_inheritable", 1, (_TCGETS, _FIONBIO, _FIOCLEX, _FIONCLEX)),
    *_each("fcntl", "CPython reads and sets O_CLOEXEC / O_NONBLOCK; nothing else (no "
           "F_SETOWN signals, no leases, no F_DUPFD)", 1, (_F_GETFD, _F_SETFD, _F_GETFL, _F_SETFL)),
    # Memory. No executable mappings: nothing needs to make code after start-up.
    Allow("brk", "glibc malloc"),
    Allow("mmap", "pymalloc arenas and big allocations, never PROT_EXEC",
          (ArgIs(2, 0, _PROT_EXEC),)),
    Allow("mprotect", "glibc malloc heap growth, never PROT_EXEC", (ArgIs(2, 0, _PROT_EXEC),)),
    Allow("munmap", "freeing arenas"),
    Allow("mremap", "realloc of big blocks"),
    Allow("madvise", "glibc malloc trimming"),
    # Time, sleeping, timers, signals.
    Allow("clock_gettime", "time.*(); CPU clocks are not in the vDSO"),
    Allow("clock_getres", "time.get_clock_info"),
    Allow("gettimeofday", "vDSO fallback"),
    Allow("time", "vDSO fallback"),
    Allow("nanosleep", "time.sleep"),
    Allow("clock_nanosleep", "time.sleep"),
    Allow("setitimer", "the runtime arms its own ITIMER_REAL deadline and ITIMER_PROF CPU budget"),
    Allow("getitimer", "signal.getitimer"),
    Allow("rt_sigaction", "signal.signal (SIGALRM back to default)"),
    Allow("rt_sigprocmask", "CPython and glibc mask signals around critical sections"),
    Allow("rt_sigreturn", "returning from any signal handler"),
    Allow("sigaltstack", "CPython's faulthandler / stack overflow handling"),
    Allow("restart_syscall", "a sleep interrupted by a signal resumes"),
    Allow("futex", "locks: CPython's GIL and import locks, glibc internals"),
    Allow("sched_yield", "glibc spin loops"),
    # Reading its own identity and usage.
    Allow("getpid", "os.getpid, random"),
    Allow("gettid", "glibc internals"),
    Allow("getppid", "os.getppid (the template's pid, nothing more)"),
    Allow("getuid", "os.getuid; the self-test"),
    Allow("geteuid", "os.geteuid; the self-test"),
    Allow("getgid", "os.getgid; the self-test"),
    Allow("getegid", "os.getegid; the self-test"),
    Allow("getresuid", "the self-test"),
    Allow("getresgid", "the self-test"),
    Allow("getgroups", "the self-test"),
    Allow("capget", "the self-test reads its (empty) capability sets"),
    Allow("getrusage", "resource.getrusage: the usage report"),
    Allow("times", "os.times"),
    Allow("getrandom", "os.urandom, random seeding, hash randomisation"),
    # Its own rlimits, never another process's. Raising above the hard limit needs
    # CAP_SYS_RESOURCE, which the child lacks, so this can only keep or lower them
    # (sandbox/child/entry.py lowers the ceiling to each call's limits).
    Allow("prlimit64", "resource.getrlimit/setrlimit on itself (pid 0) only", (ArgIs(0, 0),)),
    Allow("getrlimit", "resource.getrlimit"),
    # A compile worker lowers its own priority (sandbox/compile/worker.py). Without
    # CAP_SYS_NICE, and with RLIMIT_NICE 0, a process can only lower its own.
    Allow("setpriority", "os.setpriority(PRIO_PROCESS, 0, n): its own niceness, lowering only",
          (ArgIs(0, 0), ArgIs(1, 0))),
    Allow("setrlimit", "resource.setrlimit on itself (lowering only, see above)"),
    *_each("prctl", "read-only questions the self-test asks: NO_NEW_PRIVS, SECCOMP, "
           "DUMPABLE, CAPBSET_READ", 0,
           (_PR_GET_NO_NEW_PRIVS, _PR_GET_SECCOMP, _PR_GET_DUMPABLE, _PR_CAPBSET_READ)),
    Allow("exit", "thread exit"),
    Allow("exit_group", "process exit"),
)

_NOT_NEEDED = "not needed by a tool"

SECCOMP_REFUSED: Mapping[str, str] = MappingProxyType({
    # Processes and threads: a child is one single-threaded process.
    "fork": "new processes: a child is one process (RLIMIT_NPROC 0 also stops it)",
    "vfork": "new processes",
    "clone": "new processes and threads",
    "clone3": "new processes and threads (glibc reports EAGAIN: 'can't start new thread')",
    "execve": "new programs (the root holds none; refused before the path lookup)",
    "execveat": "new programs",
    # Other processes.
    "ptrace": "PTRACE_TRACEME would make the template its tracer; attaching reads others",
    "process_vm_readv": "another process's memory",
    "process_vm_writev": "another process's memory",
    "process_madvise": "another process's memory",
    "process_mrelease": "another process's memory",
    "kcmp": "compares other processes' kernel objects",
    "pidfd_open": "handles on other processes",
    "pidfd_getfd": "steals another process's fds",
    "pidfd_send_signal": "signals other processes",
    "kill": "signals: the filter is compiled once, so it cannot name the child's own pid; "
            "CPython needs none (SIGALRM, SIGPROF and SIGXCPU come from the kernel)",
    "tkill": "signals (see kill); abort() still ends the process",
    "tgkill": "signals (see kill); abort() still ends the process",
    "rt_sigqueueinfo": "signals (see kill)",
    "rt_tgsigqueueinfo": "signals (see kill)",
    # Network and IPC endpoints.
    "socket": "new endpoints: the network namespace has no route, and one shared namespace "
              "would let children meet on abstract unix sockets",
    "socketpair": "new endpoints",
    "connect": "new endpoints",
    "bind": "new endpoints",
    "listen": "new endpoints",
    "accept": "new endpoints",
    "accept4": "new endpoints",
    "sendmsg": "could pass fds (SCM_RIGHTS) to the supervisor",
    "recvmsg": "fd passing; the channel carries bytes only",
    "sendmmsg": "see sendmsg",
    "recvmmsg": "see recvmsg",
    "setsockopt": _NOT_NEEDED,
    "shmget": "SysV IPC between children (one IPC namespace for all)",
    "shmat": "SysV IPC between children",
    "shmctl": "SysV IPC between children",
    "shmdt": "SysV IPC between children",
    "semget": "SysV IPC between children",
    "semop": "SysV IPC between children",
    "semtimedop": "SysV IPC between children",
    "semctl": "SysV IPC between children",
    "msgget": "SysV IPC between children",
    "msgsnd": "SysV IPC between children",
    "msgrcv": "SysV IPC between children",
    "msgctl": "SysV IPC between children",
    "mq_open": "POSIX message queues between children",
    "mq_unlink": "POSIX message queues between children",
    "mq_timedsend": "POSIX message queues between children",
    "mq_timedreceive": "POSIX message queues between children",
    # The filesystem view and namespaces are fixed.
    "mount": "the filesystem view is fixed",
    "umount2": "unmounting could reveal what a mount hides",
    "pivot_root": "the filesystem view is fixed",
    "chroot": "the filesystem view is fixed",
    "move_mount": "the filesystem view is fixed",
    "open_tree": "the filesystem view is fixed",
    "fsopen": "the filesystem view is fixed",
    "fsconfig": "the filesystem view is fixed",
    "fsmount": "the filesystem view is fixed",
    "fspick": "the filesystem view is fixed",
    "mount_setattr": "the filesystem view is fixed",
    "unshare": "an unprivileged user namespace would hand the child a full capability set",
    "setns": "entering other namespaces",
    "open_by_handle_at": "the classic container escape: opens files outside the mount namespace",
    "name_to_handle_at": "see open_by_handle_at",
    "mknod": "device nodes",
    "mknodat": "device nodes",
    "chmod": "no mode changes (setuid bits are moot under nosuid, but nothing needs them)",
    "fchmod": _NOT_NEEDED,
    "fchmodat": _NOT_NEEDED,
    "chown": _NOT_NEEDED,
    "fchown": _NOT_NEEDED,
    "lchown": _NOT_NEEDED,
    "fchownat": _NOT_NEEDED,
    "link": _NOT_NEEDED,
    "linkat": _NOT_NEEDED,
    "symlink": _NOT_NEEDED,
    "symlinkat": _NOT_NEEDED,
    "memfd_create": "anonymous files: not needed, and a route to executable memory",
    "memfd_secret": _NOT_NEEDED,
    "fanotify_init": _NOT_NEEDED,
    "inotify_init": _NOT_NEEDED,
    "inotify_init1": _NOT_NEEDED,
    # Kernel attack surface.
    "bpf": "kernel attack surface (unprivileged BPF)",
    "perf_event_open": "side channels and kernel attack surface",
    "userfaultfd": "exploit primitive: stalls kernel page faults at will",
    "io_uring_setup": "io_uring performs I/O that seccomp never sees",
    "io_uring_enter": "see io_uring_setup",
    "io_uring_register": "see io_uring_setup",
    "keyctl": "kernel keyrings are not namespaced: a channel between tenants",
    "add_key": "see keyctl",
    "request_key": "see keyctl",
    "modify_ldt": "exploit primitive",
    "personality": "could turn off address-space randomisation for an exploit",
    "seccomp": "the filter is final",
    "mbind": "NUMA placement",
    "set_mempolicy": "NUMA placement",
    "migrate_pages": "moves other processes' pages",
    "move_pages": "moves other processes' pages",
    "mlock": "pinning memory",
    "mlock2": "pinning memory",
    "mlockall": "pinning memory",
    "pkey_mprotect": "memory protection keys, a way round the PROT_EXEC rule",
    "pkey_alloc": "memory protection keys",
    "remap_file_pages": _NOT_NEEDED,
    # Identity: fixed before the filter is loaded.
    "setuid": "identity is fixed", "setgid": "identity is fixed",
    "setreuid": "identity is fixed", "setregid": "identity is fixed",
    "setresuid": "identity is fixed", "setresgid": "identity is fixed",
    "setfsuid": "identity is fixed", "setfsgid": "identity is fixed",
    "setgroups": "identity is fixed", "capset": "capabilities are gone for good",
    # Host administration.
    "kexec_load": "host administration", "kexec_file_load": "host administration",
    "init_module": "host administration", "finit_module": "host administration",
    "delete_module": "host administration", "reboot": "host administration",
    "swapon": "host administration", "swapoff": "host administration",
    "acct": "host administration", "syslog": "reads the kernel log",
    "quotactl": "host administration", "iopl": "hardware ports", "ioperm": "hardware ports",
    "settimeofday": "host clock", "clock_settime": "host clock",
    "clock_adjtime": "host clock", "adjtimex": "host clock",
    "sethostname": "host identity", "setdomainname": "host identity",
    "vhangup": "terminals",
    "uname": "kernel version fingerprinting, to pick an exploit; CPython needs it only at start-up",
    "sched_setscheduler": "scheduling", "sched_setattr": "scheduling",
    "sched_setaffinity": "scheduling", "ioprio_set": "scheduling",
})

# --------------------------------------------------------------------------------------
# What the template imports before pivot_root (there is no filesystem afterwards).
# --------------------------------------------------------------------------------------

DEFAULT_PRELOAD: tuple[str, ...] = (
    "json", "datetime", "re", "math", "random", "time", "marshal", "struct",
    "_strptime",  # datetime.strptime / time.strptime import it on first use
    "calendar", "locale",  # ... and _strptime's own imports
    "traceback", "linecache", "tokenize",
    "ast",  # traceback imports ast lazily to place the ^^^^ under the failing expression
    "threading",  # the self-test starts a thread
    "ctypes", "errno", "resource", "select", "socket",
    # Codecs are looked up, and imported, on first use of an encoding name.
    "encodings.ascii", "encodings.latin_1", "encodings.utf_8", "encodings.utf_16",
    "encodings.utf_32", "encodings.cp1252", "encodings.unicode_escape",
    "encodings.raw_unicode_escape", "encodings.idna", "encodings.punycode",
    "encodings.base64_codec", "encodings.hex_codec", "unicodedata", "stringprep",
    "sandbox.child.probes",
)

# --------------------------------------------------------------------------------------
# Configuration and the prepared template state.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfinementConfig:
    """How the template confines its children. JSON round-trips (``dataclasses.asdict``)."""

    # False is the explicit development opt-out (--insecure-no-confinement): prepare and
    # confine then only close fds and set rlimits, and a warning says so loudly.
    enabled: bool = True
    # Each child runs as a uid of its own, uid_base <= uid < uid_base + uid_count, so
    # that children cannot signal or trace each other. In a user namespace (unprivileged
    # template) only one uid can be mapped: every child runs as uid_base there.
    uid_base: int = 200_000
    uid_count: int = 50_000
    # A private tmpfs on /tmp per child, limits.tmp_bytes big (about 110 us per child:
    # see bench/confine_cost.py). False: /tmp is the read-only, empty directory of the
    # shared root, and tools have no scratch space at all.
    private_tmp: bool = True
    tmp_inodes: int = 512  # tmpfs inodes are not counted in tmp_bytes; cap them too
    hostname: str = "toolpool"
    # Imported before pivot_root, on top of DEFAULT_PRELOAD.
    preload_modules: tuple[str, ...] = ()
    # TEST ONLY. Each switch removes one layer so that a test can show the others hold
    # on their own. Production never sets them; prepare_template warns when one is set.
    test_only_without_seccomp: bool = False
    test_only_without_network_namespace: bool = False

    def __post_init__(self) -> None:
        # JSON turns the tuple into a list; keep the dataclass hashable and frozen in spirit.
        object.__setattr__(self, "preload_modules", tuple(self.preload_modules))
        if not (0 < self.uid_base and 0 < self.uid_count and self.uid_base + self.uid_count < 2**32 - 1):
            raise ValueError("uid_base and uid_count must name a range of non-root uids")
        if self.tmp_inodes < 1:
            raise ValueError("tmp_inodes must be positive")
        if not self.hostname or len(self.hostname) > 64:
            raise ValueError("hostname must be 1 to 64 characters")

    def child_uid(self, serial: int) -> int:
        """The uid of the ``serial``-th child. Callers keep at most uid_count children alive."""
        return self.uid_base + serial % self.uid_count


@dataclass(frozen=True)
class Prepared:
    """What ``prepare_template`` leaves for ``confine_child``; inherited through fork."""

    config: ConfinementConfig
    mode: str  # "privileged", "user-namespace" or "disabled"
    template_pid: int
    bpf: bytes = b""  # the compiled filter, classic BPF, host byte order; empty without seccomp
    # The template's hard rlimits: a child cannot raise above them (no CAP_SYS_RESOURCE).
    hard_limits: Mapping[int, int] = field(default_factory=dict, compare=False)
    # ctypes objects built once in the template, used by address in the child: a child's
    # cost is mostly first-touch page faults, and every new Python object adds some.
    _fprog: Any = field(default=None, repr=False, compare=False)  # keeps the buffer alive
    _fprog_address: int = field(default=0, repr=False, compare=False)
    _empty_caps: Any = field(default=None, repr=False, compare=False)


# --------------------------------------------------------------------------------------
# Thin syscall layer (ctypes; the template resolves every symbol before pivot_root).
# --------------------------------------------------------------------------------------

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUTS = 0x04000000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000

_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000
_MNT_DETACH = 0x2

_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_SECCOMP = 22
_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_SECCOMP_MODE_FILTER = 2
_SECCOMP_GET_ACTION_AVAIL = 2
_SECCOMP_RET_ERRNO = 0x00050000
_SECCOMP_RET_KILL_PROCESS = 0x80000000

_CAP_SETGID, _CAP_SETUID, _CAP_SETPCAP, _CAP_SYS_ADMIN = 6, 7, 8, 21
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)
_prctl = _libc.prctl
_prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
_prctl.restype = ctypes.c_int
_unshare = _libc.unshare
_unshare.argtypes = (ctypes.c_int,)
_unshare.restype = ctypes.c_int
_mount = _libc.mount
_mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)
_mount.restype = ctypes.c_int
_umount2 = _libc.umount2
_umount2.argtypes = (ctypes.c_char_p, ctypes.c_int)
_umount2.restype = ctypes.c_int
_sethostname = _libc.sethostname
_sethostname.argtypes = (ctypes.c_char_p, ctypes.c_size_t)
_sethostname.restype = ctypes.c_int
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


_capget = _libc.capget
_capget.argtypes = (ctypes.POINTER(_CapHeader), ctypes.POINTER(_CapData))
_capget.restype = ctypes.c_int
_capset = _libc.capset
_capset.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
_capset.restype = ctypes.c_int


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _fail(feature: str, what: str, err: int | None = None) -> ConfinementUnavailable:
    if err is None:
        err = ctypes.get_errno()
    name = errno.errorcode.get(err, str(err))
    return ConfinementUnavailable(feature, f"{what}: {name} ({os.strerror(err)})")


def _check(result: int, feature: str, what: str) -> None:
    if result != 0:
        raise _fail(feature, what)


def _effective_caps() -> int:
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_capget(header, data), "capabilities", "capget")
    return data[0].effective | (data[1].effective << 32)


def _drop_all_capabilities(empty: _EmptyCaps) -> None:
    """User-namespace mode: no uid change clears them, so clear them explicitly (the
    bounding and ambient sets were emptied in the template)."""
    _check(_capset(empty.header_address, empty.data_address), "capabilities", "capset to the empty set")


# --------------------------------------------------------------------------------------
# The template: prepare once.
# --------------------------------------------------------------------------------------

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
        log.warning("INSECURE: confinement is DISABLED (ConfinementConfig(enabled=False)). "
                    "Children keep the template's filesystem, network, uid and syscalls; "
                    "only fds are closed and rlimits set. Never run tenants' code like this.")
        return Prepared(config=config, mode="disabled", template_pid=os.getpid(),
                        hard_limits=_hard_limits())
    for name in ("test_only_without_seccomp", "test_only_without_network_namespace"):
        if getattr(config, name):
            log.warning("TEST ONLY: %s is set; this confinement is weakened on purpose", name)

    _check_single_threaded()
    _check_environment()
    _preload(DEFAULT_PRELOAD + config.preload_modules)
    bpf = b"" if config.test_only_without_seccomp else compile_seccomp_bpf()
    pivot_root_nr = _syscall_number("pivot_root")

    privileged = os.geteuid() == 0 and _has_caps(_CAP_SYS_ADMIN, _CAP_SETUID, _CAP_SETGID, _CAP_SETPCAP)
    if not privileged:
        _enter_user_namespace(config.uid_base)
    _unshare_namespace(_CLONE_NEWNS, "mount namespaces")
    if not config.test_only_without_network_namespace:
        _unshare_namespace(_CLONE_NEWNET, "network namespaces")  # lo stays down
    _unshare_namespace(_CLONE_NEWIPC, "ipc namespaces")
    _unshare_namespace(_CLONE_NEWUTS, "uts namespaces")
    name = config.hostname.encode()
    _check(_sethostname(name, len(name)), "uts namespaces", "sethostname")
    _enter_minimal_root(pivot_root_nr)
    _restrict_inherited_state()

    fprog = _sock_fprog(bpf) if bpf else None
    return Prepared(config=config, mode="privileged" if privileged else "user-namespace",
                    template_pid=os.getpid(), bpf=bpf, hard_limits=_hard_limits(), _fprog=fprog,
                    _fprog_address=ctypes.addressof(fprog) if fprog is not None else 0,
                    _empty_caps=_EmptyCaps())


_RLIMITS = (resource.RLIMIT_CPU, resource.RLIMIT_AS, resource.RLIMIT_FSIZE, resource.RLIMIT_NOFILE,
            resource.RLIMIT_CORE, resource.RLIMIT_NPROC)


def _hard_limits() -> dict[int, int]:
    return {which: resource.getrlimit(which)[1] for which in _RLIMITS}


class _EmptyCaps:
    """capset()'s arguments for "no capability at all", by address (see Prepared)."""

    def __init__(self) -> None:
        self.header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
        self.data = (_CapData * 2)()
        self.header_address = ctypes.addressof(self.header)
        self.data_address = ctypes.addressof(self.data)


def _sock_fprog(bpf: bytes) -> _SockFprog:
    """The struct sock_fprog the child hands to prctl, built once here."""
    buffer = ctypes.create_string_buffer(bpf, len(bpf))
    fprog = _SockFprog(len(bpf) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    fprog._buffer = buffer  # type: ignore[attr-defined] - the struct keeps its filter alive
    return fprog


def _syscall_number(name: str) -> int:
    try:
        import pyseccomp
    except (ImportError, RuntimeError, OSError) as exc:
        raise ConfinementUnavailable("seccomp", f"pyseccomp/libseccomp unavailable: {exc}") from exc
    nr = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name)
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
            "single-threaded template",
            f"{len(tasks)} threads: namespaces and fork() need a single-threaded template")


def _check_environment() -> None:
    """A child can read its whole address space, the environment block included."""
    extra = sorted(set(os.environ) - _ALLOWED_ENV)
    if extra:
        raise ConfinementUnavailable(
            "empty environment",
            f"the template must be exec'd with env={{}}; found {', '.join(extra)}")
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
    _prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)
    if _unshare(_CLONE_NEWUSER) != 0:
        raise _fail("user namespaces",
                    "unshare(CLONE_NEWUSER) for an unprivileged template (check the sysctls "
                    "user.max_user_namespaces, kernel.unprivileged_userns_clone and AppArmor's "
                    "kernel.apparmor_restrict_unprivileged_userns)")
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
    _check(_unshare(flag), feature, f"unshare({feature})")


def _enter_minimal_root(pivot_root_nr: int) -> None:
    """pivot_root into a read-only tmpfs, detach the old root, chroot into its /jail.

    Children see ``/`` = the jail, holding one empty directory, ``/tmp``. The chroot is
    a second lock on user namespaces: the kernel refuses CLONE_NEWUSER to a process whose
    root is not its mount namespace's root (create_user_ns: current_chrooted), so that
    door stays shut even if the seccomp filter were gone. Children cannot chroot back out:
    that needs CAP_SYS_CHROOT, and they hold no fd to anything outside.
    """
    _check(_mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None),
           "mount namespaces", "making / private (recursive)")
    where = next((p for p in _ROOT_CANDIDATES if os.path.isdir(p)), None)
    if where is None:
        raise ConfinementUnavailable("mount namespaces", f"no mount point among {_ROOT_CANDIDATES}")
    target = where.encode()
    flags = _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
    _check(_mount(b"toolpool-root", target, b"tmpfs", flags, b"size=64k,nr_inodes=16,mode=0755"),
           "tmpfs", f"mounting the new root on {where}")
    os.makedirs(os.path.join(where, "jail", "tmp"), 0o755)
    _check(_mount(None, target, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | flags, None),
           "mount namespaces", "remounting the new root read-only")
    os.chdir(where)
    # pivot_root(".", "."): the old root ends up stacked on the new one; detaching "."
    # then removes it, with no put_old directory needed in the (read-only) new root.
    if _syscall(ctypes.c_long(pivot_root_nr), b".", b".") != 0:
        raise _fail("pivot_root", "pivot_root('.', '.')")
    _check(_umount2(b".", _MNT_DETACH), "pivot_root", "detaching the old root")
    os.chroot("/jail")
    os.chdir("/")
    if sorted(os.listdir("/")) != ["tmp"]:
        raise ConfinementUnavailable("mount namespaces", f"the new root holds {os.listdir('/')}")


def _restrict_inherited_state() -> None:
    """Settings every child inherits through fork, set once here instead of per child."""
    for cap in range(64):  # until the kernel says EINVAL: past its last capability
        if _prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            if ctypes.get_errno() == errno.EINVAL and cap > 0:
                break
            raise _fail("capabilities", f"dropping capability {cap} from the bounding set")
    _check(_prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "capabilities",
           "clearing the ambient set")
    # Sticky for the template and every descendant: no execve can ever gain privileges.
    _check(_prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs", "PR_SET_NO_NEW_PRIVS")
    _check(_prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0), "dumpable", "PR_SET_DUMPABLE 0")
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


def compile_seccomp_bpf() -> bytes:
    """Compile ``SECCOMP_ALLOW`` to classic BPF with pyseccomp (libseccomp).

    Runs in the template (and in tests, where it changes nothing). Raises
    ``ConfinementUnavailable("seccomp", ...)`` when the kernel or libseccomp lacks it.
    """
    try:
        import pyseccomp
    except (ImportError, RuntimeError, OSError) as exc:
        raise ConfinementUnavailable("seccomp", f"pyseccomp/libseccomp unavailable: {exc}") from exc
    _check_seccomp_kernel(pyseccomp)
    flt = pyseccomp.SyscallFilter(pyseccomp.ERRNO(errno.EPERM))
    flt.set_attr(pyseccomp.Attr.ACT_BADARCH, pyseccomp.KILL_PROCESS)  # i386/x32 calls: never ours
    try:
        flt.set_attr(pyseccomp.Attr.CTL_OPTIMIZE, 2)  # binary tree: fewer instructions per call
    except OSError:
        pass  # an older libseccomp: a linear filter is as strict, only slower
    for row in SECCOMP_ALLOW:
        nr = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, row.syscall)
        if nr < 0:  # unknown to libseccomp, or absent on this architecture: stays refused
            continue
        conditions = [
            pyseccomp.Arg(c.index, pyseccomp.EQ, c.value) if c.mask is None
            else pyseccomp.Arg(c.index, pyseccomp.MASKED_EQ, c.mask, c.value)
            for c in row.when
        ]
        flt.add_rule(pyseccomp.ALLOW, nr, *conditions)
    fd = os.memfd_create("toolpool-seccomp", os.MFD_CLOEXEC)
    try:
        with os.fdopen(fd, "w+b", closefd=False) as f:
            flt.export_bpf(f)
        size = os.lseek(fd, 0, os.SEEK_END)
        bpf = os.pread(fd, size, 0)
    finally:
        os.close(fd)
    if not bpf or len(bpf) % 8 or len(bpf) // 8 > 4096:
        raise ConfinementUnavailable("seccomp", f"libseccomp produced {len(bpf)} bytes of BPF")
    return bpf


def _check_seccomp_kernel(pyseccomp: Any) -> None:
    if _prctl(_PR_GET_SECCOMP, 0, 0, 0, 0) < 0:
        raise _fail("seccomp", "the kernel has no seccomp (PR_GET_SECCOMP)")
    nr = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, "seccomp")
    for action, name in ((_SECCOMP_RET_ERRNO, "ERRNO"), (_SECCOMP_RET_KILL_PROCESS, "KILL_PROCESS")):
        value = ctypes.c_uint32(action)
        if _syscall(ctypes.c_long(nr), ctypes.c_long(_SECCOMP_GET_ACTION_AVAIL), ctypes.c_long(0),
                    ctypes.byref(value)) != 0:
            raise _fail("seccomp", f"the kernel lacks the {name} filter action")


# --------------------------------------------------------------------------------------
# The child: confine right after fork.
# --------------------------------------------------------------------------------------


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


def child_steps(prepared: Prepared, *, uid: int, keep_fds: Sequence[int],
                limits: Limits) -> list[tuple[str, Callable[[], None]]]:
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
    _check(_unshare(_CLONE_NEWNS), "mount namespaces", "unshare(CLONE_NEWNS) for /tmp")
    options = f"size={size},nr_inodes={inodes},mode=0700,uid={owner},gid={owner}".encode()
    _check(_mount(b"toolpool-tmp", b"/tmp", b"tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, options),
           "tmpfs", "mounting the private /tmp")


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
    for which, value in ((resource.RLIMIT_AS, limits.memory_bytes),
                         (resource.RLIMIT_FSIZE, limits.file_size_bytes),
                         (resource.RLIMIT_NOFILE, limits.open_files)):
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


def _limit_nproc() -> None:
    # After the uid drop: the kernel ignores RLIMIT_NPROC for root. 0 means no fork and
    # no thread for this uid (which only this child holds).
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))


def _arm_process_flags(template_pid: int) -> None:
    # Not dumpable: no ptrace or /proc access by a same-uid process (every child shares
    # one uid in a user namespace). The supervisor still reads /proc/PID/statm, status
    # and schedstat: those are world-readable whatever the dumpable flag.
    _check(_prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0), "dumpable", "PR_SET_DUMPABLE 0")
    # Die with the template. After the uid change, which clears the parent-death signal;
    # then check the parent is still the template, or the signal will never come.
    _check(_prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "parent-death signal",
           "PR_SET_PDEATHSIG")
    if os.getppid() != template_pid:
        raise ConfinementUnavailable("parent-death signal", "the template exited during confinement")


def _load_seccomp(fprog_address: int) -> None:
    # The raw prctl: libseccomp is not called in the child, and NO_NEW_PRIVS is inherited.
    _check(_prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, fprog_address, 0, 0), "seccomp",
           "loading the filter")


# --------------------------------------------------------------------------------------
# The start-up self-test's verdict.
# --------------------------------------------------------------------------------------

# What sandbox/child/probes.py must report; the supervisor owns this list, not the child.
SELF_TEST_PROBES: tuple[str, ...] = (
    "fs.etc_passwd", "fs.proc_listing", "fs.proc1_environ", "fs.project_files",
    "fs.root_listing", "fs.root_write",
    "net.socket_inet", "net.socket_unix", "net.socketpair", "net.connect_loopback",
    "net.connect_internet",
    "proc.fork", "proc.thread", "proc.execve", "proc.ptrace", "proc.kill_init",
    "sys.mount", "sys.unshare_user", "sys.bpf", "sys.keyctl", "sys.io_uring",
    "sys.userfaultfd", "mem.exec_mapping",
    "cred.setuid_root", "cred.unprivileged", "cred.capabilities",
    "prctl.no_new_privs", "prctl.seccomp_filter", "prctl.not_dumpable",
    "limits.cpu", "limits.address_space", "limits.nproc", "limits.file_size",
    "limits.tmp_bytes",
    "fds.only_channel", "env.os_environ", "env.proc_self_environ",
)


def check_probe_results(results: dict[str, str]) -> None:
    """Raise ``ConfinementUnavailable("self-test", ...)`` unless every expected probe
    reported ``blocked: ...``. A missing, unknown or malformed probe fails too."""
    if not isinstance(results, dict):
        raise ConfinementUnavailable("self-test", f"probe results are a {type(results).__name__}")
    failures = []
    for name in SELF_TEST_PROBES:
        outcome = results.get(name)
        if not isinstance(outcome, str) or not outcome.startswith("blocked: "):
            failures.append(f"{name}: {outcome!r}")
    unknown = sorted(str(k) for k in results if k not in SELF_TEST_PROBES)
    if unknown:
        failures.append(f"unexpected probes {unknown}")
    if failures:
        raise ConfinementUnavailable("self-test", "; ".join(failures))


def seccomp_table() -> list[dict[str, str]]:
    """The policy as rows (syscall, action, condition, reason), for docs and reports."""
    rows = [{"syscall": r.syscall, "action": "allow",
             "when": " and ".join(f"arg{c.index}{'' if c.mask is None else f' & {c.mask:#x}'} == {c.value:#x}"
                                  for c in r.when) or "always",
             "reason": r.reason} for r in SECCOMP_ALLOW]
    rows += [{"syscall": name, "action": "EPERM", "when": "always", "reason": reason}
             for name, reason in SECCOMP_REFUSED.items()]
    return rows


__all__ = [
    "Allow", "ArgIs", "ConfinementConfig", "DEFAULT_PRELOAD", "Prepared", "SECCOMP_ALLOW",
    "SECCOMP_REFUSED", "SELF_TEST_PROBES", "check_probe_results", "child_steps",
    "compile_seccomp_bpf", "confine_child", "prepare_template", "seccomp_table",
]
