"""The edX codejail baseline (issue 18): each call through ``codejail.safe_exec.safe_exec``.

    bench/codejail_setup.sh   the setup codejail's README describes (root, idempotent): a caller
                              environment with edx-codejail 4.1.0, a sandbox environment, the
                              ``sandbox`` user, the sudoers rules, no pam_limits; no AppArmor here
    bench/codejail_host.py    one codejail worker, in the caller environment
    this module               the bench's side: the driver, the setup check, the tool as codejail takes it

**How a tool reaches codejail.** ``safe_exec(code, globals_dict)`` runs Python source in a
fresh ``python -E -B`` of the sandbox environment, as the sandbox user through ``sudo``, under
codejail's rlimits, and hands the globals in and out through JSON. So a call is sent as
source: a small stand-in for the part of toolpool's ``conv`` the bench's tools use (state by
attribute, the numbers, ``set_variant``), then the tool's file verbatim (for ``start_function``
the seed, tests/seeds/002_start_function.py), then two lines that call the function and leave
``result``, ``state`` and ``variant`` in the globals; the conversation goes in as a global.
No RestrictedPython and no import policy: codejail has neither, which makes it cheaper per call.

**Workers.** The driver runs ``workers`` codejail workers, each a process serving one call at a
time (as an LMS's single-threaded web workers do), fed from one queue by a thread each. They
are processes of their own because codejail forks with a ``preexec_fn``, which this process
(gRPC's threads) must not do; each reaps its ``sudo`` children, so the jail's CPU is in the
workers' ``children_*`` times. Limits are toolpool's defaults (sandbox.policy.Limits): CPU 2 s,
256 MiB of address space, 1 MiB per file; NPROC codejail's default 15; wall clock the call's budget.
"""

from __future__ import annotations

import json
import os
import pwd
import queue
import re
import shutil
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

from bench import workloads
from bench.driver_base import Done, Driver, process_tree_cpu
from bench.workloads import Call

HOME = Path(os.environ.get("TOOLPOOL_CODEJAIL_HOME", "/opt/toolpool-codejail"))
CALLER_PYTHON = HOME / "venv" / "bin" / "python"
SANDBOX_PYTHON = HOME / "venv-sandbox" / "bin" / "python"
SANDBOX_USER = "sandbox"
SUDOERS = Path("/etc/sudoers.d/01-sandbox")
HOST = Path(__file__).resolve().parent / "codejail_host.py"
SETUP_HINT = "run bench/codejail_setup.sh as root (idempotent; bench/README.md, 'edX codejail')"
NPROC = 15  # codejail's default


def setup_problems() -> list[str]:
    """What of bench/codejail_setup.sh's work is missing here ([] when the driver can start).

    The jail itself (uid, rlimits) is checked by each worker as it starts."""
    problems = []
    if not CALLER_PYTHON.exists():
        problems.append(f"no codejail caller environment ({CALLER_PYTHON} is missing)")
    if not SANDBOX_PYTHON.exists():
        problems.append(f"no codejail sandbox environment ({SANDBOX_PYTHON} is missing)")
    if shutil.which("sudo") is None:
        problems.append("sudo is not installed")
    try:
        pwd.getpwnam(SANDBOX_USER)
    except KeyError:
        problems.append(f"no user {SANDBOX_USER!r}")
    if not SUDOERS.exists():
        problems.append(f"no sudoers rules ({SUDOERS})")
    return problems


class CodejailUnavailable(RuntimeError):
    pass


# -- the tool, as codejail takes it ----------------------------------------------------------

SHIM = '''\
class _State:
    """conv.state: attributes over a dict, as toolpool's."""

    def __init__(self, values):
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self._values[name] = value


class Conversation:
    """The part of toolpool's conv that the bench's tools use."""

    def __init__(self, data, function):
        self.state = _State(data.get("state") or {})
        self.env = data.get("env")
        self.channel_type = data.get("channel_type")
        self.caller_number = data.get("caller_number")
        self.callee_number = data.get("callee_number")
        self.sip_headers = dict(data.get("sip_headers") or {})
        attributes = data.get("integration_attributes") or {}
        self.integration_attributes = dict(attributes) if function == "start_function" else None
        self._variants = dict(data.get("variants") or {})
        self.variant_name = data.get("variant")

    def set_variant(self, name):
        if self._variants and name not in self._variants:
            raise KeyError("unknown variant %r" % (name,))
        self.variant_name = name

'''

CALL = """
_conv = Conversation(conversation, function_name)
result = globals()[function_name](_conv, **args)
state, variant = _conv.state._values, _conv.variant_name
del _conv, conversation, args
"""

WANT = ["result", "state", "variant"]


def tool_code(function: str) -> str:
    """The shim, the file of the bench's tools that defines ``function`` (verbatim), the call."""
    for source in workloads.tool_files().values():
        if re.search(rf"^def {re.escape(function)}\(", source, re.MULTILINE):
            return SHIM + source.rstrip("\n") + "\n" + CALL
    raise KeyError(function)


def tool_globals(call: Call) -> dict[str, Any]:
    return {"conversation": call.conversation, "function_name": call.function, "args": dict(call.args or {})}


def verdict(reply: dict[str, Any]) -> str:
    """A worker's answer as the bench's verdicts (toolpool's status names where they fit)."""
    if "error" in reply:
        return f"error:{reply['error'].split(':', 1)[0]}"
    failed = reply.get("failed")
    if failed:
        if failed.get("memory_error"):
            return "memory_limit"
        status = failed.get("status")
        if status == -signal.SIGXCPU:
            return "cpu_limit"  # RLIMIT_CPU's soft limit
        if status == -signal.SIGKILL:
            return "timeout"  # codejail's REALTIME thread: sudo pkill -9 of the process group
        return "runtime_error" if status == 1 else "internal_error"
    return "ok" if isinstance(reply["globals"].get("result"), str) else "invalid_return"


# -- one worker process ----------------------------------------------------------------------


class _Worker:
    def __init__(self, index: int, limits: dict[str, Any], log_path: Path) -> None:
        args = [str(CALLER_PYTHON), "-I", str(HOST), "--sandbox-python", str(SANDBOX_PYTHON), "--user", SANDBOX_USER]
        for key, value in limits.items():
            args += [f"--{key}", str(value)]
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                args,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd="/",
                env={"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
            )
        try:
            hello = self._read()
        except (RuntimeError, ValueError):
            self.close()
            raise
        if not hello.get("ready"):
            self.close()
            raise CodejailUnavailable(
                f"codejail worker {index}: the jail is not as codejail's README describes: "
                f"{hello.get('error')}; {SETUP_HINT}"
            )
        self.check = hello["check"]

    def _read(self) -> dict[str, Any]:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"codejail worker {self.proc.pid} exited (status {self.proc.poll()})")
        return json.loads(line)

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        self.proc.stdin.write(json.dumps(request).encode() + b"\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


# -- the driver ------------------------------------------------------------------------------


class CodejailDriver(Driver):
    """edX codejail 4.1.0's safe_exec per call, through ``workers`` worker processes."""

    name = "codejail"

    def __init__(self, out_dir: Path, workers: int = 4) -> None:
        super().__init__()
        self.out_dir = out_dir
        self.workers = workers
        from sandbox.policy import Limits

        defaults = Limits()
        self.limits = {
            "cpu": defaults.cpu_seconds,
            "vmem": defaults.memory_bytes,
            "fsize": defaults.file_size_bytes,
            "nproc": NPROC,
        }
        self._queue: queue.Queue = queue.Queue()
        self._workers: list[_Worker] = []
        self._threads: list[threading.Thread] = []
        self._code: dict[str, str] = {}

    def start(self) -> None:
        problems = setup_problems()
        if problems:
            raise CodejailUnavailable("codejail is not set up: " + "; ".join(problems) + f"; {SETUP_HINT}")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        try:
            for i in range(self.workers):
                self._workers.append(_Worker(i, self.limits, self.out_dir / "codejail-workers.log"))
            self._check_tool()
        except BaseException:
            self.close()
            raise
        for worker in self._workers:
            thread = threading.Thread(target=self._serve, args=(worker,), name="bench-codejail", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _check_tool(self) -> None:
        """The seed's greeting must come back as toolpool's would: the tool really ran."""
        reply = self._workers[0].ask(self._request(workloads.START))
        if verdict(reply) != "ok":
            raise RuntimeError(f"start_function through codejail: {verdict(reply)}: {reply}")
        got, conv = reply["globals"], workloads.START.conversation
        want = {"phone_number": conv["caller_number"], "is_voice": True, "shared_id": "SH-42"}
        if got["variant"] != "london" or any(got["state"].get(k) != v for k, v in want.items()):
            raise RuntimeError(f"start_function through codejail left {got}, not {want} and variant london")

    def supports(self, call: Call) -> bool:
        try:
            self._tool_code(call.function)
        except KeyError:
            return False
        return True

    def _tool_code(self, function: str) -> str:
        code = self._code.get(function)
        if code is None:
            code = self._code[function] = tool_code(function)
        return code

    def _request(self, call: Call) -> dict[str, Any]:
        return {
            "code": self._tool_code(call.function),
            "globals": tool_globals(call),
            "realtime": call.budget_ms / 1000.0,
            "want": WANT,
        }

    def submit(self, call: Call, done: Done) -> None:
        self._queue.put((call, done))

    def _serve(self, worker: _Worker) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            call, done = item
            try:
                answer = verdict(worker.ask(self._request(call)))
            except Exception as exc:  # noqa: BLE001 - a driver failure is a verdict, counted and shown
                answer = f"error:{type(exc).__name__}"
            done(answer)

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
        for worker in self._workers:
            worker.close()
        self._threads, self._workers = [], []

    def outside_cpu_s(self) -> float:
        import psutil

        total = 0.0
        for worker in self._workers:
            try:
                total += process_tree_cpu(psutil.Process(worker.proc.pid), include_self=True)
            except psutil.Error:
                pass
        return total

    def describe(self) -> dict[str, Any]:
        check = self._workers[0].check if self._workers else {}
        return {
            "name": self.name,
            "codejail": "edx-codejail 4.1.0, codejail.safe_exec.safe_exec",
            "workers": self.workers,
            "caller_python": str(CALLER_PYTHON),
            "sandbox_python": str(SANDBOX_PYTHON),
            "user": SANDBOX_USER,
            "limits": self.limits,
            "limits_realtime": "the call's budget (1 s start_function)",
            "jail": {k: check.get(k) for k in ("uid", "rlimits", "shadow", "apparmor", "python")},
            "apparmor": _APPARMOR.get(check.get("apparmor"), check.get("apparmor")),
        }


_APPARMOR = {
    "none": "none: not available on this kernel",
    "unconfined": "unconfined: the kernel has AppArmor, but no profile is loaded for the sandbox python",
}
