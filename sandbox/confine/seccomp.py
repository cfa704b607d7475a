"""The seccomp policy of confined children, as data, and its compilation to BPF.

The policy is ``SECCOMP_ALLOW`` (an allowlist, one reason per row) and
``SECCOMP_REFUSED`` (the dangerous calls, with why; they are refused by the default
action, and a test checks that no row of the allowlist ever names one of them).
Refused calls fail with EPERM rather than killing the process: the call never reaches
the kernel either way, the start-up self-test can observe every refusal in one child,
and an honest tool that tries, say, a thread gets an exception naming its line. The one
exception is a call through a foreign ABI (i386 ``int 0x80``, x32): never CPython's,
always an exploit, it kills the process (SIGSYS).

Trusted code. The template runs ``compile_seccomp_bpf`` ONCE, before ``pivot_root``
(``template_side.py``), and builds the ``struct sock_fprog`` each child
hands to the kernel (``sock_fprog``); the child loads those bytes with a raw ``prctl``
(``child_side.py``) and never calls libseccomp. ``seccomp_table`` renders the policy
for docs and reports. The supervisor never imports this module.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sandbox.confine import syscalls
from sandbox.errors import ConfinementUnavailable

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
    Allow("sendto", "socket.send() on the channel, never to an explicit address", (ArgIs(4, 0),)),
    Allow("getsockname", "socket.socket(fileno=channel) introspects the channel"),
    Allow("getpeername", "socket.socket(fileno=channel) introspects the channel"),
    Allow("getsockopt", "socket.socket(fileno=channel) reads SO_TYPE and friends"),
    Allow("shutdown", "half-closing the channel"),
    Allow("poll", "socket timeouts, waiting on the channel"),
    Allow("ppoll", "waiting on the channel"),
    Allow("select", "select.select on the channel"),
    Allow("pselect6", "select.select on the channel"),
    *_each(
        "ioctl",
        "TCGETS: io.open asks isatty(); FIONBIO: socket timeouts; FIOCLEX/FIONCLEX: os.set_inheritable",
        1,
        (_TCGETS, _FIONBIO, _FIOCLEX, _FIONCLEX),
    ),
    *_each(
        "fcntl",
        "CPython reads and sets O_CLOEXEC / O_NONBLOCK; nothing else (no F_SETOWN signals, no leases, no F_DUPFD)",
        1,
        (_F_GETFD, _F_SETFD, _F_GETFL, _F_SETFL),
    ),
    # Memory. No executable mappings: nothing needs to make code after start-up.
    Allow("brk", "glibc malloc"),
    Allow("mmap", "pymalloc arenas and big allocations, never PROT_EXEC", (ArgIs(2, 0, _PROT_EXEC),)),
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
    Allow(
        "setpriority", "os.setpriority(PRIO_PROCESS, 0, n): its own niceness, lowering only", (ArgIs(0, 0), ArgIs(1, 0))
    ),
    Allow("setrlimit", "resource.setrlimit on itself (lowering only, see above)"),
    *_each(
        "prctl",
        "read-only questions the self-test asks: NO_NEW_PRIVS, SECCOMP, DUMPABLE, CAPBSET_READ",
        0,
        (_PR_GET_NO_NEW_PRIVS, _PR_GET_SECCOMP, _PR_GET_DUMPABLE, _PR_CAPBSET_READ),
    ),
    Allow("exit", "thread exit"),
    Allow("exit_group", "process exit"),
)

_NOT_NEEDED = "not needed by a tool"

SECCOMP_REFUSED: Mapping[str, str] = MappingProxyType(
    {
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
        "setuid": "identity is fixed",
        "setgid": "identity is fixed",
        "setreuid": "identity is fixed",
        "setregid": "identity is fixed",
        "setresuid": "identity is fixed",
        "setresgid": "identity is fixed",
        "setfsuid": "identity is fixed",
        "setfsgid": "identity is fixed",
        "setgroups": "identity is fixed",
        "capset": "capabilities are gone for good",
        # Host administration.
        "kexec_load": "host administration",
        "kexec_file_load": "host administration",
        "init_module": "host administration",
        "finit_module": "host administration",
        "delete_module": "host administration",
        "reboot": "host administration",
        "swapon": "host administration",
        "swapoff": "host administration",
        "acct": "host administration",
        "syslog": "reads the kernel log",
        "quotactl": "host administration",
        "iopl": "hardware ports",
        "ioperm": "hardware ports",
        "settimeofday": "host clock",
        "clock_settime": "host clock",
        "clock_adjtime": "host clock",
        "adjtimex": "host clock",
        "sethostname": "host identity",
        "setdomainname": "host identity",
        "vhangup": "terminals",
        "uname": "kernel version fingerprinting, to pick an exploit; CPython needs it only at start-up",
        "sched_setscheduler": "scheduling",
        "sched_setattr": "scheduling",
        "sched_setaffinity": "scheduling",
        "ioprio_set": "scheduling",
    }
)


def seccomp_table() -> list[dict[str, str]]:
    """The policy as rows (syscall, action, condition, reason), for docs and reports."""
    rows = [
        {
            "syscall": r.syscall,
            "action": "allow",
            "when": " and ".join(
                f"arg{c.index}{'' if c.mask is None else f' & {c.mask:#x}'} == {c.value:#x}" for c in r.when
            )
            or "always",
            "reason": r.reason,
        }
        for r in SECCOMP_ALLOW
    ]
    rows += [
        {"syscall": name, "action": "EPERM", "when": "always", "reason": reason}
        for name, reason in SECCOMP_REFUSED.items()
    ]
    return rows


# --------------------------------------------------------------------------------------
# Compiling the policy (in the template, once).
# --------------------------------------------------------------------------------------

_SECCOMP_GET_ACTION_AVAIL = 2
_SECCOMP_RET_ERRNO = 0x00050000
_SECCOMP_RET_KILL_PROCESS = 0x80000000


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
            pyseccomp.Arg(c.index, pyseccomp.EQ, c.value)
            if c.mask is None
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
    if syscalls.prctl(_PR_GET_SECCOMP, 0, 0, 0, 0) < 0:
        raise syscalls.fail("seccomp", "the kernel has no seccomp (PR_GET_SECCOMP)")
    nr = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, "seccomp")
    for action, name in ((_SECCOMP_RET_ERRNO, "ERRNO"), (_SECCOMP_RET_KILL_PROCESS, "KILL_PROCESS")):
        value = ctypes.c_uint32(action)
        if (
            syscalls.syscall(
                ctypes.c_long(nr), ctypes.c_long(_SECCOMP_GET_ACTION_AVAIL), ctypes.c_long(0), ctypes.byref(value)
            )
            != 0
        ):
            raise syscalls.fail("seccomp", f"the kernel lacks the {name} filter action")


class SockFprog(ctypes.Structure):
    """The kernel's ``struct sock_fprog``: a filter's length in instructions, and its address."""

    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def sock_fprog(bpf: bytes) -> SockFprog:
    """The struct sock_fprog the child hands to prctl, built once in the template."""
    buffer = ctypes.create_string_buffer(bpf, len(bpf))
    fprog = SockFprog(len(bpf) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    fprog._buffer = buffer  # the struct keeps its filter alive
    return fprog


__all__ = [
    "SECCOMP_ALLOW",
    "SECCOMP_REFUSED",
    "Allow",
    "ArgIs",
    "SockFprog",
    "compile_seccomp_bpf",
    "seccomp_table",
    "sock_fprog",
]
