"""The verdict on the start-up self-test: did every forbidden action fail?

Runs in the supervisor (``Pool.selftest``), which owns the list of probes: a confined
child runs them (``sandbox/child/probes.py``) and reports one outcome per name, and this
module refuses to serve unless each one says ``blocked``. The child's report is
untrusted input; anything missing, unknown or malformed fails the test.
"""

from __future__ import annotations

from sandbox.errors import ConfinementUnavailable

# What sandbox/child/probes.py must report; the supervisor owns this list, not the child.
SELF_TEST_PROBES: tuple[str, ...] = (
    "fs.etc_passwd",
    "fs.proc_listing",
    "fs.proc1_environ",
    "fs.project_files",
    "fs.root_listing",
    "fs.root_write",
    "net.socket_inet",
    "net.socket_unix",
    "net.socketpair",
    "net.connect_loopback",
    "net.connect_internet",
    "proc.fork",
    "proc.thread",
    "proc.execve",
    "proc.ptrace",
    "proc.kill_init",
    "sys.mount",
    "sys.unshare_user",
    "sys.bpf",
    "sys.keyctl",
    "sys.io_uring",
    "sys.userfaultfd",
    "mem.exec_mapping",
    "cred.setuid_root",
    "cred.unprivileged",
    "cred.capabilities",
    "prctl.no_new_privs",
    "prctl.seccomp_filter",
    "prctl.not_dumpable",
    "limits.cpu",
    "limits.address_space",
    "limits.nproc",
    "limits.file_size",
    "limits.tmp_bytes",
    "fds.only_channel",
    "env.os_environ",
    "env.proc_self_environ",
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


__all__ = ["SELF_TEST_PROBES", "check_probe_results"]
