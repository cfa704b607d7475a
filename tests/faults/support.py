"""Shared machinery of the reliability tests (tests/faults, tests/fuzz, tests/soak).

Everything here drives REAL processes: a server started as ``toolpool serve`` in a
subprocess (``FaultServer``) or in-process (``tests.integration.harness.make_server``),
its real template and confined children. Faults are injected from outside, the way the
world injects them: signals, rlimits, a pids cgroup, a full or read-only filesystem.

What "an answer" means (``Answer``): either a ``Result`` (the tool ran, or was killed,
and the verdict says how), or an RPC error the SERVER sent, recognisable by its
``toolpool-reason`` trailing metadata. An error without that metadata (the client's
own deadline firing, a broken connection) is not an answer: it is silence.

Mounts and cgroups, the faults that need root, are in tests/faults/host.py. Nothing here
may break the machine: processes are ended only by the ids of the ones we started.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import psutil

from sandbox.supervisor.pool import PoolConfig
from tests.integration.harness import ORCH_TOKEN, REPO, auth, config_text
from worker._proto.toolpool.v1 import toolpool_pb2 as pb
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc

# A client allowed every tenant, for the multi-tenant soak (appended to the harness's clients).
ANY_TOKEN = "any-tenant-token-0123456789"

# The tools the reliability tests run: good ones and hostile ones, one verdict each.
TOOLS = textwrap.dedent(
    """
    import time


    def start_function(conv):
        conv.state.greeted = True
        return "hello"


    def good(conv, n=0):
        conv.state.n = n + 1
        log.info("good " + str(n))
        return {"content": str(n)}


    def nap(conv, ms=200):
        conv.state.napping = True
        time.sleep(ms / 1000)
        return "rested"


    def spin(conv):
        conv.state.spun = True
        while True:
            pass


    def crash(conv):
        # map() objects nest in C with no recursion check: the innermost __next__ is
        # 300,000 C frames down, past the end of the C stack (SIGSEGV).
        x = iter([1])
        for i in range(300000):
            x = map(abs, x)
        return str(list(x))


    def memory_bomb(conv):
        chunks = []
        while True:
            chunks.append("x" * (16 * 1024 * 1024))


    def output_bomb(conv):
        return "x" * (1024 * 1024)


    def log_bomb(conv):
        for i in range(100000):
            log.info("spam " + str(i))
        return "done"


    def raiser(conv):
        conv.state.half = "written"
        raise ValueError("tool failure")


    def bad_return(conv):
        return {"hangup": "yes"}


    def cpu_burn(conv):
        n = 0
        while True:
            n += 1


    def uses_secret(conv, name="api_key"):
        conv.state.length = len(conv.utils.get_secret(name))
        return "ok"
    """
).lstrip()

# Result statuses, as the lower-case names of sandbox.result.Status.
STATUS_NAMES = {v: pb.Status.Name(v).lower() for v in pb.Status.values()}

# RPC codes the server answers with on purpose (translate.rpc_status), each with a reason.
SERVER_CODES = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAVAILABLE,
    }
)


# -- answers -------------------------------------------------------------------------------


@dataclass
class Answer:
    """What one RPC got back. Exactly one of ``status`` (a verdict) and ``code`` is set."""

    call_id: str
    status: str | None = None  # the Result's status, e.g. "ok", "timeout"
    code: str | None = None  # the RPC error's code name
    reason: str | None = None  # toolpool-reason of the error, None if the server sent none
    details: str = ""
    error_kind: str | None = None  # the Result's error.kind
    error_message: str = ""
    state: dict | None = None
    raw: bytes = b""  # everything received, for leak checks
    response: Any = None  # the response message of a successful RPC

    @property
    def is_verdict(self) -> bool:
        return self.status is not None

    @property
    def from_server(self) -> bool:
        """A verdict, or an error the server chose (it always names a reason)."""
        return self.is_verdict or self.reason is not None

    def describe(self) -> str:
        if self.is_verdict:
            return f"{self.status}({self.error_kind or ''})"
        return f"{self.code}[{self.reason}]: {self.details[:120]}"


def _metadata_bytes(metadata: Any) -> bytes:
    out = b""
    for key, value in metadata or ():
        out += key.encode() + b"=" + (value if isinstance(value, bytes) else str(value).encode()) + b"\n"
    return out


def answer_of(call: Any, call_id: str = "") -> Answer:
    """Run ``call()`` (a stub method bound to its request) and classify what came back."""
    try:
        response, rpc = call()
    except grpc.RpcError as error:
        trailing = error.trailing_metadata() if callable(getattr(error, "trailing_metadata", None)) else ()
        reason = {k: v for k, v in trailing or () if isinstance(v, str)}.get("toolpool-reason")
        details = error.details() or ""
        return Answer(
            call_id=call_id,
            code=error.code().name,
            reason=reason,
            details=details,
            raw=details.encode() + b"\n" + _metadata_bytes(trailing),
        )
    body = response if isinstance(response, bytes) else response.SerializeToString()
    raw = body + b"\n" + _metadata_bytes(rpc.initial_metadata()) + _metadata_bytes(rpc.trailing_metadata())
    if isinstance(response, pb.ExecuteResponse):
        result = response.result
        return Answer(
            call_id=response.call_id or call_id,
            status=STATUS_NAMES[result.status],
            error_kind=result.error.kind if result.HasField("error") else None,
            error_message=result.error.message if result.HasField("error") else "",
            state=json.loads(result.state_json or "{}"),
            raw=raw,
            response=response,
        )
    return Answer(call_id=call_id, status="ok", raw=raw, response=response)


def execute_request(
    tenant: str,
    function: str,
    *,
    version_id: str = "",
    alias: str = "",
    args: Any = None,
    deadline_ms: int = 0,
    call_id: str = "",
    conversation: Any = None,
) -> pb.ExecuteRequest:
    request = pb.ExecuteRequest(
        tenant=tenant,
        function=function,
        deadline_ms=deadline_ms,
        call_id=call_id,
        args_json=json.dumps({} if args is None else args),
        conversation_json=json.dumps(conversation or {"state": {"before": 1}}),
    )
    if alias:
        request.alias = alias
    else:
        request.version_id = version_id
    return request


def execute(
    stub: pb_grpc.ToolPoolStub, request: pb.ExecuteRequest, *, token: str = ORCH_TOKEN, timeout: float = 15.0
) -> Answer:
    return answer_of(lambda: stub.Execute.with_call(request, metadata=auth(token), timeout=timeout), request.call_id)


def deploy(
    stub: pb_grpc.ToolPoolStub,
    tenant: str,
    files: dict[str, str],
    *,
    alias: str = "",
    token: str = ORCH_TOKEN,
    timeout: float = 30.0,
) -> pb.DeployResponse:
    request = pb.DeployRequest(
        tenant=tenant, alias=alias, files=[pb.SourceFile(name=n, source=s) for n, s in files.items()]
    )
    return stub.Deploy(request, metadata=auth(token), timeout=timeout)


def run_concurrently(jobs: list[Any], width: int) -> list[Any]:
    """Run callables on ``width`` threads; results in job order. Every job runs exactly once."""
    results: list[Any] = [None] * len(jobs)
    cursor = iter(range(len(jobs)))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            results[index] = jobs[index]()

    threads = [threading.Thread(target=worker) for _ in range(width)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


# -- a server in a subprocess ------------------------------------------------------------------


def write_fault_config(
    directory: Path, *, db_path: Path | None = None, top: dict[str, Any] | None = None, **sections: dict[str, Any]
) -> Path:
    """The harness's configuration, plus a client allowed every tenant (ANY_TOKEN).

    ``top`` holds top-level settings (``max_message_bytes``), ``sections`` the tables.
    """
    directory.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{k} = {json.dumps(v)}\n" for k, v in (top or {}).items())
    text += config_text(db_path or directory / "toolpool.db", directory / "dev-token", **sections)
    text += f'[[clients]]\nname = "any"\ntoken = "{ANY_TOKEN}"\ntenants = ["*"]\n'
    path = directory / "toolpool.toml"
    path.write_text(text)
    return path


class FaultServer:
    """``toolpool serve`` in a subprocess, optionally started inside a cgroup.

    ``cgroup`` (a cgroup directory) is joined by the shell that then execs the server, so
    the server and every process it ever creates are in it from the first instruction.
    """

    def __init__(
        self,
        config_path: Path,
        *,
        cgroup: Path | None = None,
        env: dict[str, str] | None = None,
        start_timeout: float = 60.0,
    ):
        self.config_path = config_path
        self.log_path = config_path.parent / f"server-{time.monotonic_ns()}.log"
        self.tmpdir = Path(tempfile.mkdtemp(prefix="toolpool-server-tmp-", dir=config_path.parent))
        environment = {**os.environ, "HOME": str(config_path.parent), "TMPDIR": str(self.tmpdir), **(env or {})}
        environment.pop("TOOLPOOL_TOKEN", None)
        command = [sys.executable, "-m", "worker.cli", "serve", "--config", str(config_path)]
        if cgroup is not None:
            command = ["sh", "-c", f'echo $$ > "{cgroup}/cgroup.procs" && exec "$@"', "sh", *command]
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=self._log, env=environment)
        self.port = self._read_port(start_timeout)
        self.target = f"127.0.0.1:{self.port}"
        self.pid = self.proc.pid

    def _read_port(self, timeout: float) -> int:
        box: list[bytes] = []
        reader = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not box or not box[0]:
            self.kill()
            raise AssertionError(f"the server did not start:\n{self.log()[-4000:]}")
        return json.loads(box[0])["port"]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def channel(self) -> grpc.Channel:
        return grpc.insecure_channel(self.target)

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, and the exit code; a server that does not exit in time is killed and fails."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"the server did not exit {timeout:.0f} s after SIGTERM:\n{self.log()[-3000:]}"
            ) from None

    def sigkill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)

    def kill(self) -> None:
        """Cleanup: SIGKILL the server if it still runs (its pool dies with it)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        if not self._log.closed:
            self._log.close()
        if self.proc.stdout:
            self.proc.stdout.close()


# -- the process tree --------------------------------------------------------------------------


def tree(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def describe_tree(pid: int) -> str:
    lines = []
    for p in tree(pid):
        try:
            lines.append(f"{p.pid} ppid={p.ppid()} {p.status()} uid={p.uids().real} {' '.join(p.cmdline())[:80]}")
        except psutil.Error:
            pass
    return "\n".join(lines)


def template_of(server_pid: int) -> psutil.Process | None:
    """The server's template process (its one child running sandbox.template)."""
    for p in psutil.Process(server_pid).children():
        with contextlib.suppress(psutil.Error):
            if "sandbox.template" in p.cmdline() and p.status() != psutil.STATUS_ZOMBIE:
                return p
    return None


COMPILE_WORKERS = PoolConfig().compile_workers


def wait_for_rest(server_pid: int, ready_children: int, timeout: float = 20.0) -> list[psutil.Process]:
    """Waits until the server's process tree is at rest and returns the template's children.

    At rest: one template, no other child of the server (not even a zombie), at most
    ``ready_children`` children of the template, plus the children kept for compiles
    (the ready ones; none left over from a
    call, none exited and unreaped) and no grandchild; the same set twice in a row. Raises AssertionError with
    the tree when that does not happen in time: a leaked process.
    """
    deadline = time.monotonic() + timeout
    previous: set[int] | None = None
    while True:
        snapshot = _rest_snapshot(server_pid, ready_children)
        if snapshot is not None and snapshot == previous:
            return [psutil.Process(pid) for pid in snapshot]
        previous = snapshot
        if time.monotonic() > deadline:
            raise AssertionError(f"the server's processes never came to rest (a leak?):\n{describe_tree(server_pid)}")
        time.sleep(0.25)


def _rest_snapshot(server_pid: int, ready_children: int) -> set[int] | None:
    try:
        direct = psutil.Process(server_pid).children()
        template = template_of(server_pid)
        if template is None or len(direct) != 1:
            return None
        children = template.children()
        if len(children) > ready_children + COMPILE_WORKERS or any(c.children() for c in children):
            return None
        if any(c.status() == psutil.STATUS_ZOMBIE for c in children):
            return None  # an exited child the template has not reaped (yet, or ever)
        return {template.pid, *(c.pid for c in children)}
    except psutil.Error:
        return None


def assert_all_gone(processes: list[psutil.Process], timeout: float = 15.0) -> None:
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    alive = [p for p in alive if _not_zombie(p)]
    assert not alive, f"processes survived: {[(p.pid, p.cmdline()) for p in alive if _not_zombie(p)]}"


def _not_zombie(p: psutil.Process) -> bool:
    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_bytes(pid: int) -> int:
    return psutil.Process(pid).memory_info().rss


# -- the server's own record of the calls it ran -----------------------------------------------

_CALL_LINE = re.compile(r"\bcall call_id=(?P<id>[A-Za-z0-9_.:-]+) .*?\bstatus=(?P<status>[a-z_]+)")


def calls_in_log(text: str) -> dict[str, list[str]]:
    """call_id -> the statuses the server logged for it (one line per call it ran).

    The service logs one line per call that reached the pool, after its verdict
    (worker/service.py); in plain or JSON log format the message is the same.
    """
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = _CALL_LINE.search(line)
        if match:
            found.setdefault(match["id"], []).append(match["status"])
    return found
