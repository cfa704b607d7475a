"""One edX codejail worker for the bench's ``codejail`` driver, in codejail's caller environment.

It stands for one single-threaded web worker of an Open edX LMS: it takes one call at a time
on stdin (a JSON line with the code, the globals dict and the call's wall-clock limit), runs it
with ``codejail.safe_exec.safe_exec`` exactly as an integration does (a fresh ``python -E -B``
of the sandbox environment, as the sandbox user through ``sudo``, under codejail's rlimits),
and answers one JSON line on stdout. It imports nothing of toolpool's: the caller environment
(bench/codejail_setup.sh) holds only codejail and six.

    python -I bench/codejail_host.py --sandbox-python ENV/bin/python --user sandbox [--cpu 2 ...]
    python -I bench/codejail_host.py --self-check ...   (what bench/codejail_setup.sh runs)
    python -I bench/codejail_host.py --cost 50 ...      (where one call's CPU goes, sequential calls)

Before it serves, it runs a probe through the same path and checks the jail: the sandbox
uid (not root), each rlimit as set, /etc/shadow unreadable. A jail that is not what
codejail's README describes would make the baseline meaningless, so it then refuses to serve
and says why (one JSON line ``{"error": ...}``, exit status 1).

Trusts the bench that started it (its stdin); nothing from the jail but the JSON globals.
"""

import argparse
import json
import pwd
import re
import resource
import subprocess
import sys
import time

from codejail import jail_code, safe_exec

MIB = 1024 * 1024
_STATUS = re.compile(r"with status code: (-?\d+)$")

# Runs in the jail; its globals come back through codejail's JSON straw.
PROBE = """
import os, resource, sys
uid = os.getuid()
rlimits = {n: list(resource.getrlimit(getattr(resource, "RLIMIT_" + n))) for n in ("CPU", "AS", "FSIZE", "NPROC")}
try:
    open("/etc/shadow").close()
    shadow = "readable"
except OSError as exc:
    shadow = type(exc).__name__
try:
    with open("/proc/self/attr/current") as f:
        apparmor = f.read().strip("\\x00\\n ") or "none"
except OSError:
    apparmor = "none"
python = sys.version.split()[0]
executable = sys.executable
"""


def configure(args: argparse.Namespace) -> None:
    """codejail's own configuration calls, as its README shows them."""
    jail_code.configure("python", args.sandbox_python, user=args.user)
    jail_code.set_limit("CPU", args.cpu)  # soft limit; codejail makes the hard one +1 (SIGXCPU first)
    jail_code.set_limit("VMEM", args.vmem)  # RLIMIT_AS
    jail_code.set_limit("FSIZE", args.fsize)
    jail_code.set_limit("NPROC", args.nproc)  # per uid, across the host
    jail_code.set_limit("REALTIME", args.realtime)  # wall clock; per call below
    jail_code.set_limit("PROXY", 0)  # no proxy process: each worker forks its own


_contexts: dict[float, str] = {}


def _context(realtime: float) -> str:
    """A limit_overrides_context whose REALTIME is the call's own wall-clock limit."""
    name = _contexts.get(realtime)
    if name is None:
        name = _contexts[realtime] = f"realtime={realtime:g}"
        jail_code.override_limit("REALTIME", realtime, name)
    return name


def run_one(request: dict) -> dict:
    globals_dict = request["globals"]
    context = _context(float(request["realtime"])) if request.get("realtime") else None
    started = time.perf_counter()
    try:
        safe_exec.safe_exec(request["code"], globals_dict, limit_overrides_context=context)
    except safe_exec.SafeExecException as exc:
        text = str(exc)
        status = _STATUS.search(text)
        return {
            "failed": {
                "status": int(status[1]) if status else None,
                "memory_error": "MemoryError" in text,
                "tail": text[-400:],
            },
            "wall_ms": (time.perf_counter() - started) * 1000,
        }
    wanted = request.get("want") or list(globals_dict)
    return {"globals": {k: globals_dict.get(k) for k in wanted}, "wall_ms": (time.perf_counter() - started) * 1000}


def self_check(args: argparse.Namespace) -> dict:
    """The probe's findings, and what differs from the jail codejail's README describes."""
    reply = run_one({"code": PROBE, "globals": {}, "realtime": 5})
    if "failed" in reply:
        return {"problems": [f"the probe failed in the jail: {reply['failed']['tail']}"]}
    found = reply["globals"]
    problems = []
    want_uid = pwd.getpwnam(args.user).pw_uid
    if found["uid"] != want_uid or found["uid"] == 0:
        problems.append(f"the jail ran as uid {found['uid']}, not {args.user} ({want_uid})")
    want = {
        "CPU": [args.cpu, args.cpu + 1],
        "AS": [args.vmem, args.vmem],
        "FSIZE": [args.fsize, args.fsize],
        "NPROC": [args.nproc, args.nproc],
    }
    for name, limit in want.items():
        if found["rlimits"][name] != limit:
            problems.append(
                f"RLIMIT_{name} in the jail is {found['rlimits'][name]}, not {limit} "
                "(does PAM's pam_limits reset it? see /etc/pam.d/sudo)"
            )
    if found["shadow"] == "readable":
        problems.append("the jail can read /etc/shadow")
    return {**found, "problems": problems}


def _cpu_s() -> tuple[float, float]:
    own, reaped = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, reaped.ru_utime + reaped.ru_stime


def cost(args: argparse.Namespace, n: int) -> dict:
    """CPU ms per call (this process / what it reaped) and wall ms of safe_exec and of its parts,
    each run ``n`` times in a row (after one unmeasured run)."""
    sudo = ["sudo", "-u", args.user]
    quiet = {"env": {}, "cwd": "/tmp", "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    steps = {
        "safe_exec('x = 1')": lambda: safe_exec.safe_exec("x = 1", {}),
        "sudo -u sandbox python -E -B -c pass": lambda: subprocess.run(
            [*sudo, args.sandbox_python, "-E", "-B", "-c", "pass"], **quiet
        ),
        "python -E -B -c pass (no sudo)": lambda: subprocess.run(
            [args.sandbox_python, "-E", "-B", "-c", "pass"], **quiet
        ),
        "python -E -B -c 'import json, six' (no sudo)": lambda: subprocess.run(
            [args.sandbox_python, "-E", "-B", "-c", "import json, six"], **quiet
        ),
        "sudo -u sandbox find /tmp -maxdepth 0 (the cleanup)": lambda: subprocess.run(
            [*sudo, "/usr/bin/find", "/tmp", "-maxdepth", "0"], **quiet
        ),
    }
    out = {}
    for label, step in steps.items():
        step()
        (own0, reaped0), started = _cpu_s(), time.perf_counter()
        for _ in range(n):
            step()
        (own1, reaped1), wall = _cpu_s(), time.perf_counter() - started
        out[label] = {
            "cpu_ms_self": round(1000 * (own1 - own0) / n, 2),
            "cpu_ms_reaped": round(1000 * (reaped1 - reaped0) / n, 2),
            "wall_ms": round(1000 * wall / n, 2),
        }
    return out


def serve() -> None:
    for line in sys.stdin:
        try:
            reply = run_one(json.loads(line))
        except Exception as exc:  # noqa: BLE001 - answered, so the bench counts it as the worker's failure
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox-python", required=True, help="<SANDENV>/bin/python")
    parser.add_argument("--user", default="sandbox")
    parser.add_argument("--cpu", type=int, default=2, help="CPU seconds (toolpool's Limits.cpu_seconds)")
    parser.add_argument("--vmem", type=int, default=256 * MIB, help="bytes of address space")
    parser.add_argument("--fsize", type=int, default=1 * MIB, help="bytes per written file")
    parser.add_argument("--nproc", type=int, default=15, help="processes of the sandbox user (codejail's default)")
    parser.add_argument("--realtime", type=float, default=5.0, help="wall-clock seconds when a call gives none")
    parser.add_argument("--self-check", action="store_true", help="check the jail, print the findings, exit")
    parser.add_argument("--cost", type=int, metavar="N", help="time safe_exec and its parts N times each, exit")
    args = parser.parse_args()
    configure(args)
    try:
        check = self_check(args)
    except Exception as exc:  # noqa: BLE001 - e.g. sudo missing or refusing: said in one line
        check = {"problems": [f"{type(exc).__name__}: {exc}"]}
    if check["problems"]:
        print(json.dumps({"error": "; ".join(check["problems"]), "check": check}), flush=True)
        return 1
    print(json.dumps({"ready": True, "check": check}), flush=True)
    if args.cost:
        print(json.dumps(cost(args, args.cost), indent=1))
    if args.self_check or args.cost:
        return 0
    serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
