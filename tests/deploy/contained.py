"""Runs a command as the Kubernetes Deployment runs the server, without a container engine.

    python -m tests.deploy.contained CAPS PROFILE -- COMMAND...

CAPS is a comma-separated capability list (``SYS_ADMIN,SETUID,...``): every other
capability is dropped from the bounding set, so after ``execve`` a uid-0 process holds
exactly CAPS, as runc gives a container ``capabilities: {drop: [ALL], add: CAPS}``.
PROFILE is an OCI seccomp profile (deploy/seccomp/toolpool.json), compiled with
libseccomp and loaded the way runc loads it for a container that may escalate
privileges: without NO_NEW_PRIVS, before ``execve`` (which the profile must allow).

What this does not reproduce: the container's own mount namespace and masked /proc
paths, its cgroup, and AppArmor. Test-only; must run as root.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys

import pyseccomp

CAPABILITIES = {
    "CHOWN": 0,
    "DAC_OVERRIDE": 1,
    "DAC_READ_SEARCH": 2,
    "FOWNER": 3,
    "FSETID": 4,
    "KILL": 5,
    "SETGID": 6,
    "SETUID": 7,
    "SETPCAP": 8,
    "LINUX_IMMUTABLE": 9,
    "NET_BIND_SERVICE": 10,
    "NET_BROADCAST": 11,
    "NET_ADMIN": 12,
    "NET_RAW": 13,
    "IPC_LOCK": 14,
    "IPC_OWNER": 15,
    "SYS_MODULE": 16,
    "SYS_RAWIO": 17,
    "SYS_CHROOT": 18,
    "SYS_PTRACE": 19,
    "SYS_PACCT": 20,
    "SYS_ADMIN": 21,
    "SYS_BOOT": 22,
    "SYS_NICE": 23,
    "SYS_RESOURCE": 24,
    "SYS_TIME": 25,
    "SYS_TTY_CONFIG": 26,
    "MKNOD": 27,
    "LEASE": 28,
    "AUDIT_WRITE": 29,
    "AUDIT_CONTROL": 30,
    "SETFCAP": 31,
    "MAC_OVERRIDE": 32,
    "MAC_ADMIN": 33,
    "SYSLOG": 34,
    "WAKE_ALARM": 35,
    "BLOCK_SUSPEND": 36,
    "AUDIT_READ": 37,
    "PERFMON": 38,
    "BPF": 39,
    "CHECKPOINT_RESTORE": 40,
}
_PR_CAPBSET_DROP = 24
_EINVAL = 22
_OPS = {
    "SCMP_CMP_EQ": pyseccomp.EQ,
    "SCMP_CMP_NE": pyseccomp.NE,
    "SCMP_CMP_MASKED_EQ": pyseccomp.MASKED_EQ,
    "SCMP_CMP_LT": pyseccomp.LT,
    "SCMP_CMP_LE": pyseccomp.LE,
    "SCMP_CMP_GT": pyseccomp.GT,
    "SCMP_CMP_GE": pyseccomp.GE,
}


def keep_only(names: list[str]) -> None:
    keep = {CAPABILITIES[name] for name in names}
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in range(64):
        if cap in keep:
            continue
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            if ctypes.get_errno() == _EINVAL:
                return  # past the kernel's last capability
            raise OSError(ctypes.get_errno(), f"PR_CAPBSET_DROP {cap}")


def action(name: str, errno_ret: int | None) -> int:
    if name == "SCMP_ACT_ALLOW":
        return pyseccomp.ALLOW
    if name == "SCMP_ACT_ERRNO":
        return pyseccomp.ERRNO(1 if errno_ret is None else errno_ret)
    raise ValueError(f"action {name} not supported by this launcher")


def compile_profile(profile: dict) -> pyseccomp.SyscallFilter:
    """The profile as a libseccomp filter; raises if a name or an operator is unknown."""
    if profile.get("architectures") != ["SCMP_ARCH_X86_64"]:
        raise ValueError(f"architectures: expected only SCMP_ARCH_X86_64, got {profile.get('architectures')}")
    flt = pyseccomp.SyscallFilter(action(profile["defaultAction"], profile.get("defaultErrnoRet")))
    for rule in profile["syscalls"]:
        rule_action = action(rule["action"], rule.get("errnoRet"))
        args = [
            pyseccomp.Arg(a["index"], _OPS[a["op"]], a["value"], a.get("valueTwo", 0)) for a in rule.get("args", ())
        ]
        for name in rule["names"]:
            if pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name) < 0:
                raise ValueError(f"{name}: no such system call on this architecture")
            flt.add_rule(rule_action, name, *args)
    return flt


def main(argv: list[str]) -> None:
    caps, profile_path, separator, *command = argv
    if separator != "--" or not command:
        raise SystemExit("usage: python -m tests.deploy.contained CAPS PROFILE -- COMMAND...")
    with open(profile_path) as handle:
        flt = compile_profile(json.load(handle))
    keep_only([c for c in caps.split(",") if c])
    flt.set_attr(pyseccomp.Attr.CTL_NNP, 0)  # runc: no NO_NEW_PRIVS when escalation is allowed
    flt.load()
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
