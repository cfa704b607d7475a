"""The wall clock jumps, backwards and forwards: deadlines do not move.

The host's clock cannot be changed safely on a shared machine, so the proof has two
halves:

* statically, no module of sandbox/ or worker/ reads the wall clock except the few
  listed below, each for a timestamp shown to people and never compared with a time;
* dynamically, an in-process server whose modules see a wall clock that jumps a day
  forwards and backwards on every read still ends calls at their deadlines (not at
  once, not never), admits queued calls, and lists versions newest first.

Outside our code: grpc's Python ``ServicerContext.time_remaining()`` subtracts
``time.time()`` from a deadline the C core converted to wall time a moment before, so a
jump inside that microsecond window would skew one call's budget. That is grpc's, and
it is why the real clock is left alone here.
"""

from __future__ import annotations

import ast
import itertools
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.faults import support
from tests.integration.harness import ORCH_TOKEN, REPO, auth
from worker._proto.toolpool.v1 import toolpool_pb2 as pb
from worker.client import ToolpoolClient

# Every place sandbox/ and worker/ may read the wall clock, and why it is not a deadline.
WALL_CLOCK_TIMESTAMPS = {
    ("worker/store/base.py", "now_ms"): "created_ms / updated_ms columns: shown to people, never compared"
}

DAY = 86_400.0


def _wall_clock_reads(path: Path) -> list[tuple[str, int]]:
    """(enclosing function, line) of each wall-clock read in one module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            if (
                isinstance(child, ast.ImportFrom)
                and child.module == "time"
                and any(alias.name in ("time", "time_ns") for alias in child.names)
            ):
                found.append((function, child.lineno))
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
                attr = child.func.attr
                base = ast.unparse(child.func.value)
                if (
                    (attr in ("time", "time_ns") and base.split(".")[-1] == "time")
                    or (attr in ("now", "utcnow", "today") and base.split(".")[-1] in ("datetime", "date"))
                    or (attr in ("clock_gettime", "clock_gettime_ns") and "REALTIME" in ast.unparse(child))
                ):
                    found.append((name, child.lineno))
            visit(child, name)

    visit(tree, "<module>")
    return found


def test_sandbox_and_worker_read_the_wall_clock_only_for_timestamps():
    unexpected = []
    for package in ("sandbox", "worker"):
        for path in sorted((REPO / package).rglob("*.py")):
            relative = path.relative_to(REPO).as_posix()
            if "/_proto/" in relative:
                continue
            for function, line in _wall_clock_reads(path):
                if (relative, function) not in WALL_CLOCK_TIMESTAMPS:
                    unexpected.append(f"{relative}:{line} in {function}()")
    assert not unexpected, (
        "wall-clock reads outside the timestamp list (deadlines and waits must use time.monotonic; "
        "a timestamp for people goes into WALL_CLOCK_TIMESTAMPS with its reason): " + ", ".join(unexpected)
    )


def test_the_scan_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import time, datetime\nfrom time import time as now\n"
        "def f():\n    return time.time() + 1\n"
        "def g():\n    return datetime.datetime.now()\n"
        "def h():\n    return time.monotonic()\n"
    )
    assert [f for f, _ in _wall_clock_reads(sample)] == ["<module>", "f", "g"]


class JumpingClock:
    """Stands in for the ``time`` module: ``time()`` is a day ahead or behind the real clock,
    in turn at each read; every other function is the real one."""

    def __init__(self, offsets: tuple[float, ...]):
        self._offsets = itertools.cycle(offsets)
        self._lock = threading.Lock()
        self.reads = 0

    def time(self) -> float:
        with self._lock:
            self.reads += 1
            return time.time() + next(self._offsets)

    def time_ns(self) -> int:
        return int(self.time() * 1e9)

    def __getattr__(self, name: str):
        return getattr(time, name)


def _patch_our_modules(monkeypatch, clock: JumpingClock) -> list[str]:
    patched = []
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in ("sandbox", "worker") and getattr(module, "time", None) is time:
            monkeypatch.setattr(module, "time", clock)
            patched.append(name)
    return patched


@pytest.fixture
def jumping(monkeypatch):
    clock = JumpingClock((DAY, -DAY, 3 * DAY, -3 * DAY))
    patched = _patch_our_modules(monkeypatch, clock)
    assert "sandbox.supervisor.pool" in patched and "worker.service" in patched and "worker.store.base" in patched, (
        patched
    )
    return clock


def test_deadlines_hold_while_the_wall_clock_jumps(live, jumping):
    # A call well inside its deadline finishes: a wall-clock deadline a day ahead would
    # have ended it at once.
    rested = live.call("nap", args={"ms": 300}, deadline_ms=3000)
    assert rested.status == "ok", rested.describe()
    # A call that never returns ends with its deadline: one a day behind would never fire
    # in the supervisor.
    spun = live.call("spin", deadline_ms=400, timeout=20)
    assert spun.status == "timeout", spun.describe()
    # Queued calls are admitted when slots free: a start-by time on the wall clock would
    # have refused them (a day late) or kept them (a day early).
    requests = [live.request("nap", args={"ms": 300}, deadline_ms=4000) for _ in range(10)]
    answers = support.run_concurrently(
        [lambda r=r: support.execute(live.stub, r, timeout=20) for r in requests], width=10
    )
    assert [a.status for a in answers] == ["ok"] * 10, [a.describe() for a in answers]
    # The client's own budget (worker.client) is monotonic too.
    with ToolpoolClient(f"127.0.0.1:{live.server.port}", ORCH_TOKEN) as client:
        result = client.execute("acme", "nap", version_id=live.version, args={"ms": 200}, timeout=10)
    assert result.status.value == "ok"


def test_versions_are_listed_newest_first_when_the_clock_went_back(live, monkeypatch):
    """created_ms is a wall-clock timestamp; which version is newest is not a matter of the clock."""
    first = support.deploy(live.stub, "globex", {"tools.py": support.TOOLS + "# first\n"}).deployed.version_id
    _patch_our_modules(monkeypatch, JumpingClock((-DAY,)))
    second = support.deploy(live.stub, "globex", {"tools.py": support.TOOLS + "# second\n"}).deployed.version_id
    listed = live.stub.ListVersions(pb.ListVersionsRequest(tenant="globex"), metadata=auth(), timeout=10)
    order = [v.version_id for v in listed.versions]
    assert order.index(second) < order.index(first), "the version deployed last must be listed first"
