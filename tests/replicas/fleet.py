"""Three (or more) toolpool replicas as real processes on loopback, and a load driver.

Each replica has its own directory and port, like a pod with an emptyDir, and by default
its own SQLite database; ``env`` can point every replica at one PostgreSQL database
instead (``TOOLPOOL_STORE_URL``, ``TOOLPOOL_SECRETS_KEY``), as the Deployment does. A
replica can be killed (SIGKILL), terminated (SIGTERM, drained) and started again on the
same port, with its directory's database wiped, as a rescheduled pod would be.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from tests.integration.harness import ServerProcess, write_config
from worker.client import ToolpoolCallError, ToolpoolClient


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Replica:
    def __init__(self, directory: Path, port: int, env: dict[str, str] | None = None, **sections: dict[str, Any]):
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.port = port
        self.env = dict(env or {})
        self.config = write_config(directory, **sections)
        self.process: ServerProcess | None = None
        self.logs: list[Path] = []  # one per run, oldest first

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, *, wipe: bool = False) -> None:
        if wipe:
            for path in self.directory.glob("toolpool.db*"):
                path.unlink()
        self.process = ServerProcess(
            self.config,
            "--port",
            str(self.port),
            "--log-level",
            "DEBUG",
            env={"TOOLPOOL_LOG_FORMAT": "json", **self.env},
        )
        self.logs.append(self.process.stderr_path)

    def sandbox_processes(self) -> list[psutil.Process]:
        return psutil.Process(self.process.proc.pid).children(recursive=True)

    def kill(self) -> list[psutil.Process]:
        """SIGKILL, as when a node dies. Returns what ran under it, to check it all went."""
        below = self.sandbox_processes()
        self.process.proc.kill()
        self.process.proc.wait(timeout=30)
        self.process.kill()  # closes the log file
        return below

    def terminate(self, timeout: float = 60) -> int:
        self.process.terminate()
        return self.process.wait(timeout)

    def stop(self) -> None:
        """SIGTERM and a clean exit: a drain that fails or hangs (the server's watchdog then
        writes every thread's stack to its log and exits 1) fails the test with that log."""
        code = 0
        if self.process is not None and self.process.proc.poll() is None:
            code = self.terminate()
        if self.process is not None:
            self.process.kill()
            assert code == 0, (
                f"replica {self.directory.name} exited {code} on SIGTERM:\n{self.process.stderr()[-20000:]}"
            )

    def log_entries(self, run: int | None = None) -> list[dict[str, Any]]:
        paths = self.logs if run is None else [self.logs[run]]
        entries = []
        for path in paths:
            for line in path.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    entries.append(json.loads(line))
        return entries


def start_fleet(
    base: Path, count: int = 3, env: dict[str, str] | None = None, **sections: dict[str, Any]
) -> list[Replica]:
    replicas = [Replica(base / f"replica{i}", free_port(), env, **sections) for i in range(count)]
    with ThreadPoolExecutor(count) as starting:  # the three start-ups overlap
        list(starting.map(lambda r: r.start(), replicas))
    return replicas


@dataclass
class Outcome:
    call_id: str
    started: float
    ended: float
    status: str | None = None  # the tool's status when the call returned a result
    error: ToolpoolCallError | None = None


@dataclass
class Load:
    """``threads`` callers, each calling in a loop until stopped (or ``max_calls`` each)."""

    client: ToolpoolClient
    version: str
    threads: int = 6
    max_calls: int = 2_000
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(self.threads)]

    def start(self) -> Load:
        for worker in self._workers:
            worker.start()
        return self

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=60)
        assert not any(w.is_alive() for w in self._workers), "a caller is stuck"
        return self.outcomes

    def _run(self, index: int) -> None:
        for n in range(self.max_calls):
            if self._stop.is_set():
                return
            call_id = f"load-{index}-{n}"
            started = time.monotonic()
            outcome = Outcome(call_id, started, started)
            try:
                result = self.client.execute(
                    "acme", "slow", version_id=self.version, args={"ms": 20}, call_id=call_id, timeout=15
                )
                outcome.status = result.status.value
            except ToolpoolCallError as error:
                outcome.error = error
            outcome.ended = time.monotonic()
            with self._lock:
                self.outcomes.append(outcome)

    def rate(self, since: float, until: float) -> float:
        """Successful calls per second that ended in [since, until)."""
        with self._lock:
            done = sum(1 for o in self.outcomes if o.status == "ok" and since <= o.ended < until)
        return done / (until - since)

    def wait_for(self, predicate, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, "timed out waiting for the fleet"
            time.sleep(0.1)
