"""Real attacks on the kernel confinement, one layer at a time. These tests never skip.

``prepare_template`` changes the namespaces of its process, so every attack runs through
``tests/confine_harness.py`` in a subprocess: it prepares itself as a template, forks a
child, confines it, runs the attack in the child and reports over a pipe. If the host
cannot set up a confinement, the test FAILS and says which feature is missing.

Each layer test switches OFF the layers that would otherwise stop the same attack
(``ConfinementConfig.test_only_*``), so that the layer named in the test is the one
that holds. The rlimits and the /tmp tmpfs are in tests/test_confine_rlimits.py; the full
production configuration, as the start-up self-test checks it, is in
tests/test_confine_selftest.py.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from sandbox.confine import seccomp
from sandbox.confine.child_side import child_steps
from sandbox.confine.config import ConfinementConfig, Prepared
from sandbox.confine.selftest import SELF_TEST_PROBES, check_probe_results
from sandbox.errors import ConfinementUnavailable
from sandbox.policy import Limits

pytestmark = pytest.mark.system  # the harness runs in confined children

HARNESS = Path(__file__).with_name("confine_harness.py")
REPO = Path(__file__).resolve().parent.parent
IS_ROOT = os.geteuid() == 0
NOBODY = 65534

NO_SECCOMP = {"test_only_without_seccomp": True}
NO_NETNS = {"test_only_without_network_namespace": True}

PRELUDE = '''
import ctypes, errno, json, os, resource, signal, socket, threading, time
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long)
libc.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)

def errname(exc):
    return errno.errorcode.get(exc.errno, str(exc.errno))

def outcome(fn, *args):
    """'ok' or the errno name of the OSError the call raised."""
    try:
        fn(*args)
    except OSError as exc:
        return errname(exc)
    return "ok"

def raw(result):
    """'ok' or the errno name, for a libc call that returns -1 and sets errno."""
    return "ok" if result != -1 else errno.errorcode[ctypes.get_errno()]

def sys_(nr, *args):
    return libc.syscall(ctypes.c_long(nr), *(ctypes.c_long(a) for a in args))

def try_fork():
    try:
        pid = os.fork()
    except OSError as exc:
        return errname(exc)
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return "ok"
'''


def run_scenario(
    attack: str,
    *,
    config: dict | None = None,
    limits: dict | None = None,
    as_user: int | None = None,
    deny: str | None = None,
    sibling: bool = False,
    orphan: bool = False,
    private_mounts: bool = False,
    env: dict | None = None,
    timeout: float = 60,
) -> dict:
    scenario = {
        "attack": PRELUDE + textwrap.dedent(attack),
        "config": config or {},
        "limits": limits or {},
        "as_user": as_user,
        "deny": deny,
        "sibling": sibling,
        "orphan": orphan,
        "private_mounts": private_mounts,
    }
    proc = subprocess.run(
        [sys.executable, "-I", str(HARNESS)],
        input=json.dumps(scenario),
        capture_output=True,
        text=True,
        env=env if env is not None else {},
        cwd="/",
        timeout=timeout,
    )
    if proc.returncode != 0 or not proc.stdout:
        pytest.fail(f"the harness failed (exit {proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout)


def confined(attack: str, **kwargs) -> dict:
    """Run an attack in a confined child. Fails (never skips) if confinement is unavailable."""
    report = run_scenario(attack, **kwargs)
    if report["prepare"] != "ok":
        pytest.fail(
            f"confinement unavailable on this host: {report['prepare']['feature']}: {report['prepare']['detail']}"
        )
    if report["error"]:
        pytest.fail(f"the attack raised inside the child:\n{report['error']}")
    return report


def result_of(attack: str, **kwargs):
    report = confined(attack, **kwargs)
    assert report["exit"] == {"code": 0, "signal": None, "signal_name": None}, report
    return report["result"]


def unprivileged_user() -> int | None:
    """Run the user-namespace path as nobody when we are root; as ourselves otherwise."""
    return NOBODY if IS_ROOT else None


# ---------------------------------------------------------------------------------------
# The policy as data (no namespaces touched: safe in the pytest process).
# ---------------------------------------------------------------------------------------


def test_seccomp_allowlist_never_names_a_refused_call():
    allowed = {row.syscall for row in seccomp.SECCOMP_ALLOW}
    assert not allowed & set(seccomp.SECCOMP_REFUSED), allowed & set(seccomp.SECCOMP_REFUSED)
    for row in seccomp.SECCOMP_ALLOW:
        assert row.reason.strip(), f"{row.syscall} has no reason"
    for name, reason in seccomp.SECCOMP_REFUSED.items():
        assert reason.strip(), f"{name} has no reason"


def test_seccomp_compiles_to_bpf():
    bpf = seccomp.compile_seccomp_bpf()
    assert bpf and len(bpf) % 8 == 0 and len(bpf) // 8 < 4096
    rows = seccomp.seccomp_table()
    assert {r["action"] for r in rows} == {"allow", "EPERM"}


def test_config_round_trips_through_json():
    config = ConfinementConfig(preload_modules=("json",), tmp_inodes=64)
    again = ConfinementConfig(**json.loads(json.dumps(dataclasses.asdict(config))))
    assert again == config


def test_child_uid_must_be_in_range():
    prepared = Prepared(config=ConfinementConfig(), mode="privileged", template_pid=os.getpid())
    with pytest.raises(ValueError):
        child_steps(prepared, uid=0, keep_fds=[], limits=Limits())
    with pytest.raises(ValueError):
        child_steps(prepared, uid=200_000 + 50_000, keep_fds=[], limits=Limits())


def test_check_probe_results_fails_closed():
    good = dict.fromkeys(SELF_TEST_PROBES, "blocked: fine")
    check_probe_results(good)
    for bad in (
        {**good, "proc.fork": "ALLOWED: forked"},
        {**good, "sys.bpf": "UNKNOWN: it raised"},
        {k: v for k, v in good.items() if k != "net.socket_inet"},
        {**good, "new.probe": "blocked: but unknown"},
        {**good, "fs.etc_passwd": None},
    ):
        with pytest.raises(ConfinementUnavailable) as info:
            check_probe_results(bad)
        assert info.value.feature == "self-test"


# ---------------------------------------------------------------------------------------
# Layer: seccomp. Each call below would succeed, or fail differently, without the filter.
# ---------------------------------------------------------------------------------------

SECCOMP_ATTACKS = {
    # NPROC would say EAGAIN; only the filter says EPERM.
    "fork": "return try_fork()",
    "clone3": "r = sys_(435, ctypes.addressof(ctypes.create_string_buffer(88)), 88)\n"
    "    if r == 0: os._exit(0)\n    return raw(r)",
    # Without the filter the template would become the child's tracer.
    "ptrace_traceme": "return raw(libc.ptrace(ctypes.c_long(0), 0, None, None))",
    # Its own pid: the uid layer allows it.
    "kill_self": "return outcome(os.kill, os.getpid(), 0)",
    # Also refused by the chroot (see below): two locks on the door to full capabilities.
    "unshare_user": "return raw(libc.unshare(0x10000000))",
    "keyctl": "return raw(sys_(250, 0, -3, 0))",
    "io_uring_setup": "return raw(sys_(425, 1, ctypes.addressof(ctypes.create_string_buffer(120))))",
    "userfaultfd_user_mode": "r = sys_(323, 1)\n    return raw(r)",
    "memfd_create": "return outcome(os.memfd_create, 'x')",
    "mmap_exec": "a = libc.mmap(None, 4096, 5, 0x22, -1, 0)\n"
    "    return 'ok' if a not in (None, ctypes.c_void_p(-1).value) else raw(-1)",
    "mprotect_exec": "a = libc.mmap(None, 4096, 3, 0x22, -1, 0)\n"
    "    return raw(libc.mprotect(ctypes.c_void_p(a), 4096, 5))",
    # The mount layer would say ENOENT.
    "execve": "return outcome(os.execv, '/bin/sh', ['sh', '-c', 'exit 0'])",
    "personality": "return raw(libc.personality(0x0040000))",
    "fcntl_setown": "return outcome(__import__('fcntl').fcntl, ctx['channel'], 8, os.getpid())",
    "prlimit_other_pid": "return raw(sys_(302, ctx['template_pid'], 7, 0, "
    "ctypes.addressof(ctypes.create_string_buffer(16))))",
    # Only its own priority (who 0) may be set: not the template's, nor a process group's.
    "setpriority_other_pid": "return outcome(os.setpriority, os.PRIO_PROCESS, ctx['template_pid'], 19)",
    "setpriority_group": "return outcome(os.setpriority, os.PRIO_PGRP, 0, 19)",
}


@pytest.mark.parametrize("name", sorted(SECCOMP_ATTACKS))
def test_seccomp_refuses(name):
    if platform.machine() != "x86_64":
        pytest.fail("these attacks use x86_64 syscall numbers: port them to this architecture")
    attack = f"def attack(ctx):\n    {SECCOMP_ATTACKS[name]}\n"
    assert result_of(attack) == "EPERM"


def test_a_child_may_lower_its_own_priority_and_never_raise_it():
    # A compile worker lowers its priority (sandbox/compile/worker.py); RLIMIT_NICE 0 and
    # no CAP_SYS_NICE keep every child from raising it above the calls' (niceness 0).
    result = result_of("""
        def attack(ctx):
            lowered = outcome(os.setpriority, os.PRIO_PROCESS, 0, 10)
            return {"lower": lowered,
                    "raise": outcome(os.setpriority, os.PRIO_PROCESS, 0, -5),
                    "back": outcome(os.setpriority, os.PRIO_PROCESS, 0, 0),
                    "rlimit_nice": resource.getrlimit(resource.RLIMIT_NICE)}
    """)
    # "back" refused shows the lowering took: from 10, niceness 0 would be a raise.
    assert result == {"lower": "ok", "raise": "EACCES", "back": "EACCES", "rlimit_nice": [0, 0]}


def test_seccomp_refuses_sockets_without_the_network_namespace():
    result = result_of(
        """
        def attack(ctx):
            return {
                "inet": outcome(socket.socket, socket.AF_INET, socket.SOCK_STREAM),
                "unix": outcome(socket.socket, socket.AF_UNIX, socket.SOCK_STREAM),
                "pair": outcome(socket.socketpair),
            }
    """,
        config=NO_NETNS,
    )
    assert result == {"inet": "EPERM", "unix": "EPERM", "pair": "EPERM"}


def test_seccomp_kills_a_foreign_abi_call():
    if platform.machine() != "x86_64":
        pytest.fail("x32 is an x86_64 ABI: write the foreign-ABI attack for this architecture")
    report = confined("""
        def attack(ctx):
            return raw(sys_(0x40000000 | 39))  # getpid through the x32 ABI
    """)
    assert report["exit"]["signal_name"] == "SIGSYS", report


def test_python_runtime_works_under_the_filter():
    result = result_of("""
        import datetime, json, math, random, re, traceback, gc, marshal
        def attack(ctx):
            out = {}
            out["json"] = json.loads(json.dumps({"a": [1, 2.5, "é"]}))["a"][2]
            out["strptime"] = datetime.datetime.strptime("2024-01-02", "%Y-%m-%d").isoformat()
            out["now"] = type(datetime.datetime.now().astimezone().tzinfo).__name__
            out["re"] = re.findall(r"\\w+", "hello confined world")
            out["math"] = math.isclose(math.sqrt(2) ** 2, 2)
            random.seed()
            out["random"] = 1 <= random.Random().randint(1, 6) <= 6
            start = time.monotonic(); time.sleep(0.01)
            out["sleep"] = time.monotonic() - start >= 0.01
            out["process_time"] = time.process_time() > 0
            try:
                {}["missing"]
            except KeyError:
                out["traceback"] = traceback.format_exc().splitlines()[-1]
            out["codecs"] = ["é".encode(c) for c in ("latin-1", "utf-16", "cp1252", "idna")] and True
            try:
                bytearray(1 << 40)
            except MemoryError:
                out["memory_error"] = True
            out["rusage"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0
            resource.setrlimit(resource.RLIMIT_AS, (200 << 20, 200 << 20))  # entry.py lowers
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            signal.setitimer(signal.ITIMER_REAL, 5.0)
            signal.setitimer(signal.ITIMER_REAL, 0)
            out["marshal"] = marshal.loads(marshal.dumps(compile("1+1", "t", "eval"))) is not None
            out["gc"] = gc.collect() >= 0
            with open("/tmp/scratch.txt", "w") as f:
                f.write("scratch")
            out["tmp"] = open("/tmp/scratch.txt").read() and os.listdir("/tmp")
            os.write(ctx["channel"], b"")  # the channel stays writable
            return out
    """)
    assert result == {
        "json": "é",
        "strptime": "2024-01-02T00:00:00",
        "now": "timezone",
        "re": ["hello", "confined", "world"],
        "math": True,
        "random": True,
        "sleep": True,
        "process_time": True,
        "traceback": "KeyError: 'missing'",
        "codecs": True,
        "memory_error": True,
        "rusage": True,
        "marshal": True,
        "gc": True,
        "tmp": ["scratch.txt"],
    }


# ---------------------------------------------------------------------------------------
# Layer: network namespace (seccomp off, so socket() itself is allowed).
# ---------------------------------------------------------------------------------------


def test_network_namespace_has_no_route():
    result = result_of(
        """
        def attack(ctx):
            out = {"interfaces": [name for _, name in socket.if_nameindex()]}
            for host, port in (("127.0.0.1", 9), ("1.1.1.1", 53), ("10.0.0.1", 80)):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.settimeout(2)
                out[host] = outcome(s.connect, (host, port))
                s.close()
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            out["udp"] = outcome(u.sendto, b"x", ("8.8.8.8", 53))
            return out
    """,
        config=NO_SECCOMP,
    )
    assert result == {
        "interfaces": ["lo"],
        "127.0.0.1": "ENETUNREACH",
        "1.1.1.1": "ENETUNREACH",
        "10.0.0.1": "ENETUNREACH",
        "udp": "ENETUNREACH",
    }


# ---------------------------------------------------------------------------------------
# Layer: mount namespace and read-only minimal root (seccomp off: openat is allowed anyway).
# ---------------------------------------------------------------------------------------


def test_mount_namespace_hides_the_host():
    result = result_of(
        f"""
        def attack(ctx):
            return {{
                "root": sorted(os.listdir("/")),
                "passwd": outcome(open, "/etc/passwd"),
                "proc": outcome(os.listdir, "/proc"),
                "project": outcome(os.listdir, {str(REPO)!r}),
                "python": outcome(os.stat, {sys.executable!r}),
                "execve": outcome(os.execv, "/bin/sh", ["sh"]),
                "write_root": outcome(os.mkdir, "/escape"),
                "tmp_size": os.statvfs("/tmp").f_blocks * os.statvfs("/tmp").f_frsize,
                "dotdot": sorted(os.listdir("/tmp/../../..")),
            }}
    """,
        config=NO_SECCOMP,
        limits={"tmp_bytes": 2 << 20},
    )
    assert result == {
        "root": ["tmp"],
        "passwd": "ENOENT",
        "proc": "ENOENT",
        "project": "ENOENT",
        "python": "ENOENT",
        "execve": "ENOENT",
        "write_root": "EROFS",
        "tmp_size": 2 << 20,
        "dotdot": ["tmp"],
    }


def test_each_child_has_its_own_tmp():
    result = result_of(
        """
        def attack(ctx):
            return {"sibling_mark": os.path.exists("/tmp/sibling-was-here"), "tmp": os.listdir("/tmp")}
    """,
        sibling=True,
    )
    assert result == {"sibling_mark": False, "tmp": []}


# ---------------------------------------------------------------------------------------
# Layer: uid and capabilities (seccomp off). A sibling child runs under another uid.
# ---------------------------------------------------------------------------------------


def test_uid_drop_leaves_no_privilege():
    if not IS_ROOT:
        pytest.fail("the per-child uid layer needs a root template; run this suite as root (CI does)")
    result = result_of(
        """
        class H(ctypes.Structure):
            _fields_ = [("v", ctypes.c_uint32), ("pid", ctypes.c_int)]
        class D(ctypes.Structure):
            _fields_ = [("e", ctypes.c_uint32), ("p", ctypes.c_uint32), ("i", ctypes.c_uint32)]
        def attack(ctx):
            d = (D * 2)()
            libc.capget(ctypes.byref(H(0x20080522, 0)), d)
            sib = ctx["sibling_pid"]
            return {
                "ids": [os.getresuid(), os.getresgid(), os.getgroups()],
                "caps": [d[0].e, d[0].p, d[0].i, d[1].e, d[1].p, d[1].i],
                "kill_sibling": outcome(os.kill, sib, signal.SIGKILL),
                "ptrace_sibling": raw(libc.ptrace(ctypes.c_long(16), sib, None, None)),
                "kill_template": outcome(os.kill, ctx["template_pid"], 0),
                "setuid_root": outcome(os.setuid, 0),
                "setuid_sibling": outcome(os.setuid, ctx["uid"] - 1),
                "mount": raw(libc.mount(b"none", b"/tmp", b"tmpfs", 0, b"size=invalid")),
                "chroot": outcome(os.chroot, "/tmp"),
                "remount_root_rw": raw(libc.mount(None, b"/", None, 0x20, None)),
            }
    """,
        config=NO_SECCOMP,
        sibling=True,
    )
    uid = 200_002
    assert result == {
        "ids": [[uid] * 3, [uid] * 3, []],
        "caps": [0] * 6,
        "kill_sibling": "EPERM",
        "ptrace_sibling": "EPERM",
        "kill_template": "EPERM",
        "setuid_root": "EPERM",
        "setuid_sibling": "EPERM",
        "mount": "EPERM",
        "chroot": "EPERM",
        "remount_root_rw": "EPERM",
    }


def test_chroot_refuses_user_namespaces_without_seccomp():
    """Any unprivileged process may create a user namespace and hold every capability in
    it; the kernel refuses that to a chrooted process, which every child is."""
    result = result_of(
        """
        def attack(ctx):
            return {"user": raw(libc.unshare(0x10000000)), "root": sorted(os.listdir("/")),
                    "chroot_out": outcome(os.chroot, "/")}
    """,
        config=NO_SECCOMP,
    )
    assert result == {"user": "EPERM", "root": ["tmp"], "chroot_out": "EPERM"}


# ---------------------------------------------------------------------------------------
# Inheritance from the template: fds, environment, parent death.
# ---------------------------------------------------------------------------------------


def test_only_the_channel_fd_is_inherited():
    result = result_of("""
        def attack(ctx):
            open_fds = [fd for fd in range(1024) if outcome(os.fstat, fd) == "ok"]
            return {"open": open_fds, "channel": ctx["channel"],
                    "template": [outcome(os.fstat, fd) for fd in ctx["template_fds"]]}
    """)
    assert result["open"] == [result["channel"]]
    assert set(result["template"]) == {"EBADF"}


def test_environment_is_empty():
    result = result_of("def attack(ctx):\n    return dict(os.environ)\n")
    assert result == {}


def test_template_refuses_a_secret_environment():
    report = run_scenario("def attack(ctx):\n    return None\n", env={"API_KEY": "hunter2"})
    assert report["prepare"] != "ok", "prepare_template accepted an environment holding a secret"
    assert report["prepare"]["feature"] == "empty environment"
    assert "API_KEY" in report["prepare"]["detail"] and "hunter2" not in report["prepare"]["detail"]


def test_child_dies_with_its_template():
    report = confined("def attack(ctx):\n    while True:\n        time.sleep(60)\n", orphan=True)
    pid = report["child_pid"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    pytest.fail("the child outlived its template: PR_SET_PDEATHSIG did not fire")
