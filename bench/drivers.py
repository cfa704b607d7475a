"""Drivers: one way each of running a ``Call``, behind one small interface.

    floor     sandbox.child.entry.run_request called in the bench process (no isolation)
    echo      a bare gRPC echo server (bench/echo_server.py) with the same message sizes
    spawn     a fresh ``python -I`` process per call with rlimits (bench/spawn_driver.py)
    pool      toolpool at the library level: sandbox.supervisor.pool.Pool.execute in the bench process
    grpc      toolpool over gRPC: worker.cli serve in a subprocess (port 0), or --target
    codejail  edX codejail 4.1.0's safe_exec per call (bench/codejail_driver.py)

Every driver has ``start()``, ``close()``, ``supports(call)`` and ``submit(call, done)``
(the ``Driver`` interface, bench/driver_base.py), which returns at once and later calls
``done(verdict)`` from some other thread. A verdict is a result status (``ok``,
``timeout``, ``memory_limit``...), ``rpc:CODE`` for a gRPC error, or ``error:Type`` for a
failure of the driver itself. Drivers that block per call run it on their own thread
pool; the gRPC drivers use the stubs' futures.

``outside_cpu_s()`` is the cumulative CPU of the processes a driver runs OUTSIDE the
bench process (server, template, children already reaped); the bench measures its own
process separately. ``ready_child_pids()`` lists processes waiting to serve a call, for
the memory figures (USS/PSS), or None where the notion does not apply.
"""

from __future__ import annotations

import dataclasses
import json
import marshal
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from bench import workloads
from bench.driver_base import Done, Driver, Prepared, process_tree_cpu, reply_status
from bench.workloads import Call

REPO = Path(__file__).resolve().parents[1]
BENCH_TOKEN = "bench-token-0123456789abcdef"


# -- 1. the floor ------------------------------------------------------------------------


class FloorDriver(Driver):
    """run_request in this process: what the tool itself costs, with no isolation at all.

    Per call: json.loads of the child's request (as the child does) and run_request. Only
    calls that end by themselves are supported: an infinite loop would hang the bench.
    """

    name = "floor"
    threads = 2

    def start(self) -> None:
        super().start()
        self._prep = Prepared()
        self._cache: dict[tuple, tuple[bytes, str]] = {}
        self._prepared_process = False

    def supports(self, call: Call) -> bool:
        return call.function in workloads.SAFE_FUNCTIONS

    def call(self, call: Call) -> str:
        from sandbox.child.entry import run_request

        if not self._prepared_process:  # the template's process-wide patches, once
            from sandbox.child.entry import prepare_process

            prepare_process()
            self._prepared_process = True
        code, request = marshal.loads(self._prep.frame(call))
        return reply_status(run_request(request, code))


# -- 4. toolpool, library level ------------------------------------------------------------


class PoolDriver(Driver):
    """sandbox.supervisor.pool.Pool.execute in the bench process (the supervisor shares our GIL)."""

    name = "pool"

    def __init__(self, mode: str = "fresh", ready_children: int = 4, cgroups: bool = True) -> None:
        super().__init__()
        self.mode = mode
        self.ready_children = ready_children
        self.cgroups = cgroups  # per-tenant CPU groups, as the service has them by default
        if mode != "fresh":
            self.name = f"pool-{mode}"

    def start(self) -> None:
        from sandbox.supervisor.cgroups import CgroupConfig
        from sandbox.supervisor.pool import Pool, PoolConfig

        super().start()
        self._prep = Prepared()
        self.pool = Pool(
            PoolConfig(mode=self.mode, ready_children=self.ready_children, cgroups=CgroupConfig(enabled=self.cgroups))
        )
        self.pool.start()

    def close(self) -> None:
        super().close()
        self.pool.close()

    def call(self, call: Call) -> str:
        return self.pool.execute(self._prep.request(call)).status.value

    def _template(self) -> psutil.Process | None:
        pid = self.pool.stats().get("template_pid")
        try:
            return psutil.Process(pid) if pid else None
        except psutil.Error:
            return None

    def outside_cpu_s(self) -> float:
        template = self._template()
        return process_tree_cpu(template, include_self=True) if template else 0.0

    def template_pid(self) -> int | None:
        return self.pool.stats().get("template_pid")

    def ready_child_pids(self) -> list[int]:
        busy = set(self.pool.busy_child_pids())
        return [pid for pid in self.pool.child_pids() if pid not in busy]

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "mode": self.mode,
            "ready_children": self.ready_children,
            "cgroups": self.pool.stats()["cgroups"],
            "where": "library: Pool.execute in the bench process",
        }


# -- gRPC drivers ---------------------------------------------------------------------------


def _start_subprocess(
    cmd: list[str], log_path: Path, env: dict[str, str] | None = None, timeout_s: float = 60.0
) -> tuple[subprocess.Popen, dict]:
    """Starts a server that prints one JSON line with its port on stdout."""
    log_file = log_path.open("wb")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=log_file, env={**os.environ, **(env or {})})
    log_file.close()
    deadline = time.monotonic() + timeout_s
    line = b""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.strip().startswith(b"{"):
            break
        if not line and proc.poll() is not None:
            break
    if not line.strip().startswith(b"{"):
        proc.kill()
        proc.wait()
        raise RuntimeError(
            f"{cmd[2] if len(cmd) > 2 else cmd} did not start; see {log_path}:\n"
            + log_path.read_text(errors="replace")[-2000:]
        )
    return proc, json.loads(line)


def _stop_subprocess(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class _GrpcBase(Driver):
    """Submits with the stub's future: no thread per call in the load generator."""

    server_proc: subprocess.Popen | None = None

    def _server_process(self) -> psutil.Process | None:
        if self.server_proc is None:
            return None
        try:
            return psutil.Process(self.server_proc.pid)
        except psutil.Error:
            return None

    def outside_cpu_s(self) -> float:
        server = self._server_process()
        return process_tree_cpu(server, include_self=True) if server else 0.0

    def _future(self, call: Call) -> Any:
        raise NotImplementedError

    def _verdict(self, response: Any) -> str:
        raise NotImplementedError

    def submit(self, call: Call, done: Done) -> None:
        import grpc

        try:
            future = self._future(call)
        except Exception as exc:  # noqa: BLE001 - counted as a verdict
            done(f"error:{type(exc).__name__}")
            return

        def finished(f: Any) -> None:
            try:
                verdict = self._verdict(f.result())
            except grpc.RpcError as exc:
                verdict = f"rpc:{exc.code().name}"
            except Exception as exc:  # noqa: BLE001
                verdict = f"error:{type(exc).__name__}"
            done(verdict)

        future.add_done_callback(finished)

    def call(self, call: Call) -> str:
        box: list[str] = []
        event = threading.Event()
        self.submit(call, lambda v: (box.append(v), event.set()))
        event.wait()
        return box[0]

    def start(self) -> None:
        pass  # no thread pool

    def close(self) -> None:
        pass


# -- 2. transport baseline ------------------------------------------------------------------


class EchoDriver(_GrpcBase):
    """A bare generic gRPC service: the request carries toolpool's ExecuteRequest bytes and
    the size of the ExecuteResponse toolpool would send back; the server answers that many
    bytes. Same channel options, same sync server shape as worker/server.py."""

    name = "echo"

    def __init__(self, out_dir: Path, target: str | None = None) -> None:
        super().__init__()
        self.out_dir = out_dir
        self.target = target
        self._payloads: dict[tuple, bytes] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        import grpc

        if self.target is None:
            self.server_proc, hello = _start_subprocess(
                [sys.executable, "-m", "bench.echo_server", "--port", "0"], self.out_dir / "echo-server.log"
            )
            self.target = f"127.0.0.1:{hello['port']}"
        self.channel = grpc.insecure_channel(self.target)
        grpc.channel_ready_future(self.channel).result(timeout=30)
        self.echo = self.channel.unary_unary("/bench.Echo/Echo")
        self._prep = Prepared()

    def close(self) -> None:
        self.channel.close()
        _stop_subprocess(self.server_proc)

    def payload(self, call: Call) -> bytes:
        key = (call.tenant, call.label)
        with self._lock:
            hit = self._payloads.get(key)
        if hit is None:
            request = execute_request(call, "0" * 64).SerializeToString()
            hit = struct.pack(">I", response_size(self._prep, call)) + request
            with self._lock:
                self._payloads[key] = hit
        return hit

    def _future(self, call: Call) -> Any:
        return self.echo.future(
            self.payload(call),
            timeout=call.budget_ms / 1000.0 + 5.0,
            metadata=(("authorization", f"Bearer {BENCH_TOKEN}"),),
        )

    def _verdict(self, response: bytes) -> str:
        return "ok"

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "target": self.target, "server": "bench/echo_server.py (generic handler, sync)"}


def execute_request(call: Call, version_id: str) -> Any:
    from worker._proto.toolpool.v1 import toolpool_pb2 as pb

    return pb.ExecuteRequest(
        tenant=call.tenant,
        version_id=version_id,
        function=call.function,
        args_json=json.dumps(call.args),
        conversation_json=json.dumps(call.conversation),
        deadline_ms=call.deadline_ms or 0,
    )


def response_size(prep: Prepared, call: Call) -> int:
    """Bytes of the ExecuteResponse toolpool sends for this call (computed on the floor)."""
    from sandbox.child.entry import run_request
    from sandbox.result import ErrorInfo, Result, Status, Usage
    from sandbox.supervisor import verdict
    from worker import translate
    from worker._proto.toolpool.v1 import toolpool_pb2 as pb

    prepared = prep.prepared(call)
    usage = Usage(wall_ms=1.234, cpu_ms=1.234, peak_rss_bytes=16_000_000)
    if call.function in workloads.SAFE_FUNCTIONS:
        code, request = marshal.loads(prep.frame(call))
        reply = run_request(request, code)
        result = verdict.from_reply(prepared, json.dumps(reply).encode(), usage)
    else:
        result = Result(
            status=Status.TIMEOUT,
            state=dict(call.conversation.get("state") or {}),
            usage=usage,
            error=ErrorInfo(kind="Timeout", message="the tool did not finish within its deadline"),
        )
    response = pb.ExecuteResponse(result=translate.result_to_proto(result), version_id="0" * 64, call_id="0" * 32)
    return response.ByteSize()


# -- 5. toolpool over gRPC ------------------------------------------------------------------


def service_available() -> bool:
    return (REPO / "worker" / "server.py").exists() and (REPO / "worker" / "cli" / "__main__.py").exists()


class GrpcDriver(_GrpcBase):
    """toolpool's own service: ``python -m worker.cli serve`` on port 0, or ``target``.

    A started server gets a config file in the output directory (bench token allowed every
    tenant; everything else the shipped defaults unless ``server_settings`` says otherwise).
    """

    name = "grpc"

    def __init__(
        self,
        out_dir: Path,
        target: str | None = None,
        token: str | None = None,
        mode: str = "fresh",
        server_settings: dict[str, dict[str, Any]] | None = None,
        store_url: str | None = None,
        secrets_key: str | None = None,
        tree: Path | None = None,
        phases_out: Path | None = None,
    ) -> None:
        super().__init__()
        # When set, the server runs under bench/server_phases.py, which writes its CPU by
        # phase to this file when it stops.
        self.phases_out = phases_out
        self.out_dir = out_dir
        self.tree = tree  # another revision's checkout (bench/trees.py) to serve from; None: this one
        # A started server's store: its own SQLite file unless ``store_url`` (--store) names
        # one, e.g. a PostgreSQL database shared with other servers (then ``secrets_key``).
        self.store_url = store_url
        self.secrets_key = secrets_key
        self.target = target
        self.token = token or BENCH_TOKEN
        self.mode = mode
        self.server_settings = server_settings or {}
        if mode != "fresh":
            self.name = f"grpc-{mode}"
        self._requests: dict[tuple, Any] = {}
        self._lock = threading.Lock()

    def _config(self) -> Path:
        directory = Path(tempfile.mkdtemp(prefix=f"{self.name}-", dir=self.out_dir))
        sections = {"pool": {"mode": self.mode}, **self.server_settings}
        if self.mode != "fresh":
            sections["pool"] = {**sections.get("pool", {}), "mode": self.mode}
        lines = [
            'host = "127.0.0.1"',
            "port = 0",
            f'db_path = "{directory / "toolpool.db"}"',
            f'token_file = "{directory / "dev-token"}"',
        ]
        for section, values in sections.items():
            lines.append(f"[{section}]")
            lines.extend(f"{k} = {json.dumps(v)}" for k, v in values.items())
        lines += ["[[clients]]", 'name = "bench"', f'token = "{self.token}"', 'tenants = ["*"]']
        path = directory / "toolpool.toml"
        path.write_text("\n".join(lines) + "\n")
        self.config_path = path
        return path

    def start(self) -> None:
        import grpc

        from worker._proto.toolpool.v1 import toolpool_pb2 as pb
        from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc

        if self.target is None:
            config = self._config()
            env = {"HOME": str(config.parent)}
            if self.store_url:
                env["TOOLPOOL_STORE_URL"] = self.store_url
                if self.secrets_key:
                    env["TOOLPOOL_SECRETS_KEY"] = self.secrets_key
            if self.tree is not None:
                from bench import trees

                command = trees.server_command(self.tree, config.parent, config)
            elif self.phases_out is not None:
                command = [
                    sys.executable,
                    "-m",
                    "bench.server_phases",
                    str(self.phases_out),
                    "--",
                    "serve",
                    "--config",
                    str(config),
                ]
            else:
                command = [sys.executable, "-m", "worker.cli", "serve", "--config", str(config)]
            self.server_proc, hello = _start_subprocess(
                command, self.out_dir / f"{self.name}-server-{config.parent.name}.log", env=env
            )
            self.target = f"127.0.0.1:{hello['port']}"
        self.channel = grpc.insecure_channel(self.target)
        grpc.channel_ready_future(self.channel).result(timeout=30)
        self.stub = pb_grpc.ToolPoolStub(self.channel)
        self.metadata = (("authorization", f"Bearer {self.token}"),)
        files = [pb.SourceFile(name=n, source=s) for n, s in workloads.tool_files().items()]
        self.versions = {}
        for tenant in workloads.TENANTS:
            response = self.stub.Deploy(
                pb.DeployRequest(tenant=tenant, files=files), metadata=self.metadata, timeout=60
            )
            if not response.HasField("deployed"):
                raise RuntimeError(f"deploy failed: {response}")
            self.versions[tenant] = response.deployed.version_id
        self._status_name = pb.Status.Name

    def close(self) -> None:
        self.channel.close()
        _stop_subprocess(self.server_proc)

    def _request(self, call: Call) -> Any:
        key = (call.tenant, call.label)
        with self._lock:
            hit = self._requests.get(key)
        if hit is None:
            hit = execute_request(call, self.versions[call.tenant])
            with self._lock:
                self._requests[key] = hit
        return hit

    def _future(self, call: Call) -> Any:
        return self.stub.Execute.future(
            self._request(call), metadata=self.metadata, timeout=call.budget_ms / 1000.0 + 5.0
        )

    def _verdict(self, response: Any) -> str:
        return self._status_name(response.result.status).lower()

    def template_pid(self) -> int | None:
        server = self._server_process()
        try:
            children = server.children() if server else []
        except psutil.Error:
            return None
        return children[0].pid if len(children) == 1 else None

    def ready_child_pids(self) -> list[int] | None:
        """Children of the template (the server's child); all are ready when the server is idle."""
        server = self._server_process()
        if server is None:
            return None
        pids = []
        try:
            for template in server.children():
                pids += [c.pid for c in template.children()]
        except psutil.Error:
            pass
        return pids

    def describe(self) -> dict[str, Any]:
        from worker.store import redact_url

        out: dict[str, Any] = {
            "name": self.name,
            "target": self.target,
            "mode": self.mode,
            "started_here": self.server_proc is not None,
            "store": redact_url(self.store_url) if self.store_url else "sqlite (its own file)",
        }
        if self.server_proc is not None:
            out["config"] = self.config_path.read_text().replace(self.token, "<bench token>")
        return out


def make_driver(
    name: str,
    out_dir: Path,
    *,
    target: str | None = None,
    token: str | None = None,
    server_settings: dict | None = None,
    store_url: str | None = None,
    secrets_key: str | None = None,
) -> Driver:
    if name == "floor":
        return FloorDriver()
    if name == "echo":
        return EchoDriver(out_dir)
    if name == "spawn":
        from bench.spawn_driver import SpawnDriver

        return SpawnDriver()
    if name in ("pool", "pool-reuse"):
        return PoolDriver(mode="reuse" if name.endswith("reuse") else "fresh")
    if name in ("grpc", "grpc-reuse"):
        return GrpcDriver(
            out_dir,
            target=target,
            token=token,
            mode="reuse" if name.endswith("reuse") else "fresh",
            server_settings=server_settings,
            store_url=store_url,
            secrets_key=secrets_key,
        )
    if name == "codejail":
        from bench.codejail_driver import CodejailDriver

        return CodejailDriver(out_dir)
    raise SystemExit(f"unknown driver {name!r}; choose from {', '.join(DRIVER_NAMES)}")


DRIVER_NAMES = ("floor", "echo", "spawn", "pool", "pool-reuse", "grpc", "grpc-reuse", "codejail")


def as_dict(obj: Any) -> Any:
    return dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else obj
