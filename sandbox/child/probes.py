"""The start-up self-test: try each forbidden action from inside a confined child.

Trusted probe code, not tenant code, but it runs INSIDE a confined child, after
``confine_child``, exactly where a tool would. Each probe reports ``"blocked: <how>"``
when the confinement held, or ``"ALLOWED: <detail>"`` when it did not; a probe that
cannot tell reports ``"UNKNOWN: <why>"``, which the supervisor also treats as a failure
(``sandbox.confine.selftest.check_probe_results`` judges; the supervisor owns the list of
expected probes).

Every probe is HARMLESS WHEN NOTHING BLOCKS IT: the supervisor runs the self-test even
with confinement disabled (development), as root, on the host. So a probe never does
the forbidden thing for real; it asks for it in a form the kernel rejects only AFTER the
permission check, and reads the errno: ``mount`` with an invalid tmpfs option (EPERM:
blocked, EINVAL: a privileged mount was reached), ``execve`` with a bad argv pointer
(EPERM/ENOENT: blocked, EFAULT: the kernel had opened /bin/sh), ``ptrace(PEEKDATA)`` on
the parent (ESRCH: ptrace was reached), files created with ``O_TMPFILE`` or removed in
``finally``. A probe that does succeed (``fork``, a socket) undoes itself at once.

Everything used here was imported by the template before ``pivot_root`` (it is in
``sandbox.confine.template_side.DEFAULT_PRELOAD``): nothing may be imported lazily in the child.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import signal
import socket
import sys
import threading
from collections.abc import Callable, Sequence

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long)
_libc.prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
_libc.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)

# System calls glibc has no wrapper for, by architecture.
_NR = {
    "x86_64": {"bpf": 321, "keyctl": 250, "io_uring_setup": 425, "userfaultfd": 323, "execve": 59},
    "aarch64": {"bpf": 280, "keyctl": 219, "io_uring_setup": 425, "userfaultfd": 282, "execve": 221},
}.get(platform.machine(), {})

_PR_GET_DUMPABLE, _PR_GET_SECCOMP, _PR_CAPBSET_READ, _PR_GET_NO_NEW_PRIVS = 3, 21, 23, 39
_CLONE_NEWUSER = 0x10000000
_BIN_SH = ctypes.create_string_buffer(b"/bin/sh")
# Without a known cap, a /tmp that takes this much is called uncapped (Limits: 4 MiB).
_UNCAPPED_TMP = 64 << 20


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _errno_text(err: int) -> str:
    return f"{errno.errorcode.get(err, str(err))} ({os.strerror(err)})"


def _os_error(exc: OSError) -> str:
    return _errno_text(exc.errno) if exc.errno else str(exc)


def _raw(result: int, what: str, refused: Callable[[int], bool] = lambda e: True) -> str:
    """Judge a raw libc/syscall result: -1 with errno is a refusal."""
    if result == -1:
        err = ctypes.get_errno()
        if refused(err):
            return f"blocked: {what}: {_errno_text(err)}"
        return f"ALLOWED: {what} reached the kernel: {_errno_text(err)}"
    return f"ALLOWED: {what} returned {result}"


def _syscall(name: str, *args: int) -> int:
    nr = _NR.get(name)
    if nr is None:
        raise LookupError(f"no syscall number for {name} on {platform.machine()}")
    result: int = _libc.syscall(ctypes.c_long(nr), *(ctypes.c_long(a) for a in args))  # restype c_long: an int
    return result


# -- filesystem --------------------------------------------------------------------------


def probe_etc_passwd() -> str:
    try:
        with open("/etc/passwd", "rb") as f:
            return f"ALLOWED: read {len(f.read(64))} bytes of /etc/passwd"
    except OSError as exc:
        return f"blocked: open /etc/passwd: {_os_error(exc)}"


def probe_proc_listing() -> str:
    try:
        return f"ALLOWED: /proc lists {len(os.listdir('/proc'))} entries"
    except OSError as exc:
        return f"blocked: listdir /proc: {_os_error(exc)}"


def probe_proc1_environ() -> str:
    try:
        with open("/proc/1/environ", "rb") as f:
            return f"ALLOWED: read {len(f.read(64))} bytes of /proc/1/environ"
    except OSError as exc:
        return f"blocked: open /proc/1/environ: {_os_error(exc)}"


def _project_paths(extra: Sequence[str]) -> list[str]:
    paths = [
        "/work",
        "/root",
        "/home",
        "/etc",
        "/usr",
        "/opt",
        "/srv",
        "/var",
        "/mnt",
        "/sys",
        "/dev",
        "/run",
        "/proc",
        "/bin",
        "/lib",
    ]
    paths += [p for p in sys.path if p.startswith("/")]  # the stdlib, the venv, the project
    module = sys.modules.get("sandbox")
    paths += [p for p in getattr(module, "__path__", ()) if p.startswith("/")]
    paths += [p for p in extra if p]
    return sorted(set(paths))


def probe_project_files(extra_paths: Sequence[str] = ()) -> str:
    seen = []
    for path in _project_paths(extra_paths):
        try:
            os.listdir(path)
            seen.append(path)
        except OSError:
            pass
        try:
            os.stat(path)
            if path not in seen:
                seen.append(path)
        except OSError:
            pass
    if seen:
        return f"ALLOWED: visible: {', '.join(seen[:8])}"
    return "blocked: none of the host's or the project's paths exist"


def probe_root_listing() -> str:
    entries = sorted(os.listdir("/"))
    if set(entries) <= {"tmp"}:
        return f"blocked: / holds only {entries}"
    return f"ALLOWED: / holds {entries}"


def probe_root_write() -> str:
    # O_TMPFILE: an unnamed file, gone at close, so success leaves nothing behind.
    try:
        fd = os.open("/", os.O_TMPFILE | os.O_WRONLY, 0o600)
    except OSError as exc:
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return f"blocked: create in /: {_os_error(exc)}"
        return f"UNKNOWN: create in /: {_os_error(exc)}"
    os.close(fd)
    return "ALLOWED: a file could be created in /"


# -- network -----------------------------------------------------------------------------


def _socket_probe(family: int, kind: int) -> str:
    try:
        s = socket.socket(family, kind)
    except OSError as exc:
        return f"blocked: socket(): {_os_error(exc)}"
    s.close()
    return "ALLOWED: socket() created"


def probe_socket_inet() -> str:
    return _socket_probe(socket.AF_INET, socket.SOCK_STREAM)


def probe_socket_unix() -> str:
    return _socket_probe(socket.AF_UNIX, socket.SOCK_STREAM)


def probe_socketpair() -> str:
    try:
        a, b = socket.socketpair()
    except OSError as exc:
        return f"blocked: socketpair(): {_os_error(exc)}"
    a.close()
    b.close()
    return "ALLOWED: socketpair() created"


def _connect_probe(address: tuple[str, int]) -> str:
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    except OSError as exc:
        return f"blocked: socket(): {_os_error(exc)}"
    try:
        s.settimeout(1.0)
        s.connect(address)
    except OSError as exc:
        if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EPERM, errno.EACCES):
            return f"blocked: connect {address[0]}: {_os_error(exc)}"
        return f"ALLOWED: connect {address[0]} reached the network: {_os_error(exc) if exc.errno else exc!r}"
    finally:
        s.close()
    return f"ALLOWED: connected to {address[0]}:{address[1]}"


def probe_connect_loopback() -> str:
    return _connect_probe(("127.0.0.1", 9))


def probe_connect_internet() -> str:
    return _connect_probe(("1.1.1.1", 53))


# -- processes ---------------------------------------------------------------------------


def probe_fork() -> str:
    try:
        pid = os.fork()
    except OSError as exc:
        return f"blocked: fork: {_os_error(exc)}"
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return f"ALLOWED: forked pid {pid}"


def probe_thread() -> str:
    thread = threading.Thread(target=lambda: None, name="probe")
    try:
        thread.start()
    except RuntimeError as exc:
        return f"blocked: thread start: {exc}"
    thread.join()
    return "ALLOWED: a thread started"


def probe_execve() -> str:
    # argv is a bad pointer: the kernel opens the program, then fails with EFAULT while
    # counting argv, before the point of no return. So success never replaces us.
    result = _syscall("execve", ctypes.addressof(_BIN_SH), 1, 0)
    return _raw(result, "execve /bin/sh", refused=lambda e: e in (errno.EPERM, errno.ENOENT, errno.EACCES))


def probe_ptrace() -> str:
    # PEEKDATA on the parent, which we do not trace: seccomp says EPERM, the kernel ESRCH.
    # (PTRACE_TRACEME is what a tool would try, but it cannot be undone if allowed.)
    result = _libc.ptrace(ctypes.c_long(2), os.getppid(), None, None)
    return _raw(result, "ptrace(PTRACE_PEEKDATA, parent)", refused=lambda e: e == errno.EPERM)


def probe_kill_init() -> str:
    try:
        os.kill(1, 0)
    except OSError as exc:
        return f"blocked: kill(1, 0): {_os_error(exc)}"
    return "ALLOWED: kill(1, 0) succeeded"


# -- kernel surface ----------------------------------------------------------------------


def probe_mount() -> str:
    # An invalid tmpfs option: EPERM is decided before the options are parsed; a caller
    # allowed to mount gets EINVAL instead, and nothing is mounted either way.
    result = _libc.mount(b"none", b"/tmp", b"tmpfs", 0, b"size=toolpool-probe-invalid")
    return _raw(result, "mount tmpfs", refused=lambda e: e == errno.EPERM)


def probe_unshare_user() -> str:
    return _raw(_libc.unshare(_CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")


def probe_bpf() -> str:
    attr = ctypes.create_string_buffer(128)
    # BPF_MAP_CREATE with a zeroed attribute: EINVAL would mean bpf() was reached.
    return _raw(
        _syscall("bpf", 0, ctypes.addressof(attr), 128), "bpf(BPF_MAP_CREATE)", refused=lambda e: e == errno.EPERM
    )


def probe_keyctl() -> str:
    # KEYCTL_GET_KEYRING_ID of the session keyring (-3), without creating it.
    return _raw(_syscall("keyctl", 0, -3, 0), "keyctl(KEYCTL_GET_KEYRING_ID)", refused=lambda e: e == errno.EPERM)


def probe_io_uring() -> str:
    params = ctypes.create_string_buffer(120)
    result = _syscall("io_uring_setup", 1, ctypes.addressof(params))
    if result >= 0:
        os.close(result)
    return _raw(result, "io_uring_setup", refused=lambda e: e == errno.EPERM)


def probe_userfaultfd() -> str:
    result = _syscall("userfaultfd", 0)
    if result >= 0:
        os.close(result)
    return _raw(result, "userfaultfd", refused=lambda e: e == errno.EPERM)


def probe_exec_mapping() -> str:
    prot_read_exec, map_private_anonymous = 0x1 | 0x4, 0x02 | 0x20
    address = _libc.mmap(None, 4096, prot_read_exec, map_private_anonymous, -1, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        return f"blocked: mmap(PROT_EXEC): {_errno_text(ctypes.get_errno())}"
    _libc.munmap(ctypes.c_void_p(address), ctypes.c_size_t(4096))
    return "ALLOWED: mmap(PROT_EXEC) mapped executable memory"


# -- identity and process flags ----------------------------------------------------------


def probe_setuid_root() -> str:
    try:
        os.setuid(0)
    except OSError as exc:
        return f"blocked: setuid(0): {_os_error(exc)}"
    return "ALLOWED: setuid(0) succeeded"


def probe_unprivileged() -> str:
    uids, gids, groups = os.getresuid(), os.getresgid(), os.getgroups()
    if 0 in uids or 0 in gids or 0 in groups:
        return f"ALLOWED: root ids: uids {uids} gids {gids} groups {groups}"
    return f"blocked: uid {uids[0]}, gid {gids[0]}, groups {groups}"


def probe_capabilities() -> str:
    header = _CapHeader(0x20080522, 0)
    data = (_CapData * 2)()
    if _libc.capget(ctypes.byref(header), data) != 0:
        return f"UNKNOWN: capget failed: {_errno_text(ctypes.get_errno())}"
    sets = {
        name: getattr(data[0], name) | getattr(data[1], name) << 32
        for name in ("effective", "permitted", "inheritable")
    }
    bounding = [cap for cap in range(64) if _libc.prctl(_PR_CAPBSET_READ, cap, 0, 0, 0) == 1]
    if any(sets.values()) or bounding:
        return f"ALLOWED: capabilities {sets}, bounding {bounding}"
    return "blocked: effective, permitted, inheritable and bounding sets are empty"


def _prctl_probe(option: int, want: int, what: str) -> str:
    value = _libc.prctl(option, 0, 0, 0, 0)
    if value == want:
        return f"blocked: {what} = {value}"
    if value == -1:
        return f"UNKNOWN: {what}: {_errno_text(ctypes.get_errno())}"
    return f"ALLOWED: {what} = {value}, expected {want}"


def probe_no_new_privs() -> str:
    return _prctl_probe(_PR_GET_NO_NEW_PRIVS, 1, "PR_GET_NO_NEW_PRIVS")


def probe_seccomp_filter() -> str:
    return _prctl_probe(_PR_GET_SECCOMP, 2, "PR_GET_SECCOMP (2 = filter)")


def probe_not_dumpable() -> str:
    return _prctl_probe(_PR_GET_DUMPABLE, 0, "PR_GET_DUMPABLE")


# -- limits ------------------------------------------------------------------------------


def _finite(which: int, what: str) -> str:
    soft, hard = resource.getrlimit(which)
    if resource.RLIM_INFINITY in (soft, hard):
        return f"ALLOWED: {what} is unlimited ({soft}, {hard})"
    return f"blocked: {what} = ({soft}, {hard})"


def probe_cpu() -> str:
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if resource.RLIM_INFINITY in (soft, hard) or not soft < hard:
        return f"ALLOWED: RLIMIT_CPU ({soft}, {hard}) is unlimited or gives no SIGXCPU first"
    # The soft limit (SIGXCPU) and the per-call ITIMER_PROF (SIGPROF) only end the process
    # if their signals keep the default action, unblocked.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, ())
    for sig in (signal.SIGXCPU, signal.SIGPROF):
        if signal.getsignal(sig) is not signal.SIG_DFL:
            return f"ALLOWED: {sig.name} is handled ({signal.getsignal(sig)!r}): no distinct stop"
        if sig in blocked:
            return f"ALLOWED: {sig.name} is blocked: no distinct stop"
    return f"blocked: RLIMIT_CPU = ({soft}, {hard}), SIGXCPU and SIGPROF default and unblocked"


def probe_address_space() -> str:
    return _finite(resource.RLIMIT_AS, "RLIMIT_AS")


def probe_nproc() -> str:
    limit = resource.getrlimit(resource.RLIMIT_NPROC)
    if limit == (0, 0):
        return "blocked: RLIMIT_NPROC = (0, 0)"
    return f"ALLOWED: RLIMIT_NPROC = {limit}"


def probe_file_size() -> str:
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft == resource.RLIM_INFINITY:
        return "ALLOWED: RLIMIT_FSIZE is unlimited"
    try:
        fd = os.open("/tmp", os.O_TMPFILE | os.O_WRONLY, 0o600)  # gone at close
    except OSError as exc:
        return f"blocked: RLIMIT_FSIZE = {soft}; /tmp not writable: {_os_error(exc)}"
    written = 0
    try:
        chunk = b"\0" * 65536
        while written <= soft:
            written += os.write(fd, chunk)
    except OSError as exc:  # CPython ignores SIGXFSZ, so the write fails with EFBIG
        if exc.errno == errno.EFBIG and written <= soft:
            return f"blocked: write past RLIMIT_FSIZE {soft}: {_os_error(exc)} after {written} bytes"
        return f"UNKNOWN: {_os_error(exc)} after {written} bytes (RLIMIT_FSIZE {soft})"
    finally:
        os.close(fd)
    return f"ALLOWED: wrote {written} bytes past RLIMIT_FSIZE {soft}"


def probe_tmp_bytes(tmp_bytes: int | None = None) -> str:
    """Fill /tmp with files (each below RLIMIT_FSIZE) until it refuses; remove them."""
    fsize, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    per_file = 1 << 20 if fsize == resource.RLIM_INFINITY else max(fsize, 4096)
    ceiling = tmp_bytes if tmp_bytes is not None else _UNCAPPED_TMP
    total, chunk = 0, b"\0" * 65536
    names: list[str] = []
    try:
        while total <= ceiling:
            name = f"/tmp/.toolpool-probe-{os.getpid()}-{len(names)}"
            try:
                fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            except OSError as exc:
                return f"blocked: /tmp refused a file after {total} bytes: {_os_error(exc)}"
            names.append(name)
            try:
                in_file = 0
                while in_file + len(chunk) <= per_file and total <= ceiling:
                    n = os.write(fd, chunk)
                    in_file += n
                    total += n
            except OSError as exc:
                if exc.errno == errno.ENOSPC:
                    return f"blocked: /tmp full (ENOSPC) after {total} bytes"
                return f"UNKNOWN: {_os_error(exc)} after {total} bytes"
            finally:
                os.close(fd)
    finally:
        for name in names:
            try:
                os.unlink(name)
            except OSError:
                pass
    return f"ALLOWED: wrote {total} bytes to /tmp (cap {ceiling})"


# -- inheritance -------------------------------------------------------------------------


def probe_only_channel(keep_fds: Sequence[int] | None = None) -> str:
    open_fds = []
    for fd in range(1024):
        try:
            os.fstat(fd)
        except OSError:
            continue
        open_fds.append(fd)
    extra = [fd for fd in open_fds if keep_fds is None or fd not in keep_fds]
    if (keep_fds is None and len(extra) <= 1) or (keep_fds is not None and not extra):
        return f"blocked: open fds {open_fds}"
    return f"ALLOWED: inherited fds {extra} (open: {open_fds})"


def probe_os_environ() -> str:
    if os.environ:
        return f"ALLOWED: environment has {sorted(os.environ)}"
    return "blocked: os.environ is empty"


def probe_proc_self_environ() -> str:
    try:
        with open("/proc/self/environ", "rb") as f:
            data = f.read()
    except OSError as exc:
        return f"blocked: open /proc/self/environ: {_os_error(exc)}"
    if data.strip(b"\0"):
        return f"ALLOWED: /proc/self/environ holds {len(data)} bytes"
    return "blocked: /proc/self/environ is empty"


def run_probes(
    *, keep_fds: Sequence[int] | None = None, tmp_bytes: int | None = None, extra_paths: Sequence[str] = ()
) -> dict[str, str]:
    """Run every probe; never raises; harmless unconfined. ``keep_fds``: the fds allowed
    to be open (default: any one, the channel). ``tmp_bytes``: the /tmp cap to check
    against (default: /tmp must refuse before 64 MiB). ``extra_paths``: more host paths
    that must not exist (the supervisor's cwd, the project root)."""
    # Fd check first: a probe's own failure must not leave an fd open that reads as leaked.
    probes: list[tuple[str, Callable[[], str]]] = [
        ("fds.only_channel", lambda: probe_only_channel(keep_fds)),
        ("fs.etc_passwd", probe_etc_passwd),
        ("fs.proc_listing", probe_proc_listing),
        ("fs.proc1_environ", probe_proc1_environ),
        ("fs.project_files", lambda: probe_project_files(extra_paths)),
        ("fs.root_listing", probe_root_listing),
        ("fs.root_write", probe_root_write),
        ("net.socket_inet", probe_socket_inet),
        ("net.socket_unix", probe_socket_unix),
        ("net.socketpair", probe_socketpair),
        ("net.connect_loopback", probe_connect_loopback),
        ("net.connect_internet", probe_connect_internet),
        ("proc.fork", probe_fork),
        ("proc.thread", probe_thread),
        ("proc.ptrace", probe_ptrace),
        ("proc.kill_init", probe_kill_init),
        ("sys.mount", probe_mount),
        ("sys.bpf", probe_bpf),
        ("sys.keyctl", probe_keyctl),
        ("sys.io_uring", probe_io_uring),
        ("sys.userfaultfd", probe_userfaultfd),
        ("mem.exec_mapping", probe_exec_mapping),
        ("cred.setuid_root", probe_setuid_root),
        ("cred.unprivileged", probe_unprivileged),
        ("cred.capabilities", probe_capabilities),
        ("prctl.no_new_privs", probe_no_new_privs),
        ("prctl.seccomp_filter", probe_seccomp_filter),
        ("prctl.not_dumpable", probe_not_dumpable),
        ("limits.cpu", probe_cpu),
        ("limits.address_space", probe_address_space),
        ("limits.nproc", probe_nproc),
        ("limits.file_size", probe_file_size),
        ("limits.tmp_bytes", lambda: probe_tmp_bytes(tmp_bytes)),
        ("env.os_environ", probe_os_environ),
        ("env.proc_self_environ", probe_proc_self_environ),
        ("proc.execve", probe_execve),
        # Last: if allowed, it moves this (throwaway) process into a new user namespace.
        ("sys.unshare_user", probe_unshare_user),
    ]
    results: dict[str, str] = {}
    for name, probe in probes:
        try:
            results[name] = probe()
        except BaseException as exc:  # noqa: BLE001 - a probe that breaks proves nothing
            results[name] = f"UNKNOWN: the probe raised {type(exc).__name__}: {exc}"
    return results
