"""What every driver shares: the ``Driver`` interface, the bench bundle compiled once, and
the CPU of a process tree. bench/drivers.py has the drivers themselves; the baselines that
live in their own modules (bench/spawn_driver.py, bench/codejail_driver.py) import this
module, not that one, so that drivers.py can construct them without a cycle.

Every driver has ``start()``, ``close()``, ``supports(call)`` and ``submit(call, done)``,
which returns at once and later calls ``done(verdict)`` from some other thread. A
verdict is a result status (``ok``, ``timeout``, ``memory_limit``...), ``rpc:CODE`` for a
gRPC error, or ``error:Type`` for a failure of the driver itself. Drivers that block per
call run it on their own thread pool (this base class's); the gRPC drivers use the stubs'
futures.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any

import psutil

from bench import workloads
from bench.workloads import Call

Done = Callable[[str], None]


def process_tree_cpu(root: psutil.Process, include_self: bool) -> float:
    """CPU seconds of root (optionally), its live descendants, and everything they reaped."""
    total = 0.0
    procs = [root] if include_self else []
    try:
        procs += root.children(recursive=True)
    except psutil.Error:
        pass
    if not include_self:
        try:
            t = root.cpu_times()
            # Children reaped by root itself (e.g. spawn-per-call processes).
            total += t.children_user + t.children_system
        except psutil.Error:
            pass
    for proc in procs:
        try:
            t = proc.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass
    return total


class Driver:
    """Base: a thread pool for drivers whose ``call`` blocks."""

    name = "driver"
    threads = 64

    def __init__(self) -> None:
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    def start(self) -> None:
        self._executor = concurrent.futures.ThreadPoolExecutor(self.threads, thread_name_prefix=f"bench-{self.name}")

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def supports(self, call: Call) -> bool:
        return True

    def call(self, call: Call) -> str:
        raise NotImplementedError

    def submit(self, call: Call, done: Done) -> None:
        def run() -> None:
            try:
                verdict = self.call(call)
            except Exception as exc:  # noqa: BLE001 - a driver failure is a verdict, counted and shown
                verdict = f"error:{type(exc).__name__}"
            done(verdict)

        assert self._executor is not None, "start() the driver first"
        self._executor.submit(run)

    def outside_cpu_s(self) -> float:
        return 0.0

    def ready_child_pids(self) -> list[int] | None:
        return None

    def template_pid(self) -> int | None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}


class Prepared:
    """Compiles the bench bundle once and builds each distinct call's child frame once."""

    def __init__(self) -> None:
        from sandbox.compile.compiler import compile_bundle

        self.bundle = compile_bundle(workloads.tool_files())
        self._frames: dict[tuple, Any] = {}
        self._lock = threading.Lock()

    def request(self, call: Call) -> Any:
        from sandbox.supervisor.call import CallRequest, requested_deadline, validate_input

        return CallRequest(
            tenant=call.tenant,
            bundle=self.bundle,
            function=call.function,
            input=validate_input(call.conversation, call.args),
            deadline=requested_deadline(call.deadline_ms),
        )

    def prepared(self, call: Call) -> Any:
        """sandbox.supervisor.call.prepare() of the call, cached by (tenant, label)."""
        return self._prepared(call)[0]

    def frame(self, call: Call) -> bytes:
        """The call's child frame, built once as it was prepared: it carries the call's
        whole budget (a frame built later would carry what is left of the cached call's deadline)."""
        return self._prepared(call)[1]

    def _prepared(self, call: Call) -> tuple[Any, bytes]:
        from sandbox.supervisor.call import prepare

        key = (call.tenant, call.label)
        with self._lock:
            hit = self._frames.get(key)
        if hit is None:
            prepared = prepare(self.request(call))
            hit = (prepared, prepared.frame())
            with self._lock:
                self._frames[key] = hit
        return hit


def reply_status(reply: dict) -> str:
    return "ok" if reply.get("outcome") == "returned" else str(reply.get("status", "internal_error"))
