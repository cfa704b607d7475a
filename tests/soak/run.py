"""A bounded soak: sustained load of good and hostile tools across tenants, then an audit.

    python -m tests.soak.run --seconds 600 [--concurrency 6] [--seed 7] [--chaos]

starts a real server (``toolpool serve`` in a subprocess), deploys the reliability
tools (tests/faults/support.py) for four tenants and calls them from ``concurrency``
threads for ``seconds``: good calls, timeouts, memory bombs, C-level crashes, output and
log bombs, CPU burners, raised errors, invalid returns, and requests the service must
refuse (unknown function, unknown version, malformed arguments). With ``--chaos`` a
fault thread also kills children and the template while calls run.

The audit (``Report.violations``), after the load stops:

* every call got exactly one answer from the server, and the counts reconcile:
  sent = answered = sum of verdicts + typed refusals (counted apart);
* the server's own log holds exactly one line per verdict, with the same status, and
  no line for a call the client did not see run (no ghost, no double execution);
* every kind of call got a verdict it may get, and each kind got its own verdict at
  least once (the load was what it claims to be);
* nothing leaked: the process tree is back to the template and its ready children, the
  server holds as many file descriptors as after the warm-up, its TMPDIR is empty, no
  file in /tmp or /dev/shm belongs to a child's uid, and its RSS grew by at most
  RSS_GROWTH_BOUND over the steady state after the warm-up.

The RSS bound (16 MiB of growth between the end of the warm-up and the end of the
run). After the warm-up every cache the server keeps is full or bounded: compiled
bundles (4 tenants x 1 version here, LRU of 256), admission's per-tenant averages,
grpc's buffers and CPython's allocator arenas, whose high-water mark the warm-up's
largest replies have already set. Measured on the reference machine: +1.5 MiB over a
30 s run (~900 calls) and +1.2 MiB over 180 s (~3,000 calls), i.e. no trend. A leak of
what a call carries would cross the bound within the default 30 s: a retained result
of a log bomb is 1,000 log records (~200 KB as Python objects) and the mix sends ~150
of them; a leak of a few hundred bytes per call needs the long run by hand
(``--seconds 600``, ~10^4 calls) to show.

Prints the report as JSON; exits 1 if the audit found a violation.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from tests.faults import support
from tests.faults.support import ANY_TOKEN, FaultServer
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc

TENANTS = ("t0", "t1", "t2", "t3")
READY = 4
RSS_GROWTH_BOUND = 16 * 1024 * 1024
CHILD_UIDS = range(200_000, 250_000)  # sandbox.confine.config.ConfinementConfig's default uid range
ADMISSION = {
    "max_concurrent": 4,
    "tenant_concurrency": 3,
    "reserved_for_start": 1,
    "max_queue": 16,
    "tenant_max_queue": 6,
}


@dataclass(frozen=True)
class Kind:
    """One kind of call in the mix and the verdicts it may get."""

    name: str
    function: str
    weight: int
    expect: frozenset[str]  # verdict statuses or RPC codes it should get
    args: Any = field(default_factory=dict)
    deadline_ms: int = 0
    args_json: str | None = None  # raw, for malformed requests
    version: str | None = None  # a version id instead of the tenant's own
    timing: bool = False  # its verdict depends on the machine's load


KINDS = (
    Kind("good", "good", 30, frozenset({"ok"}), args={"n": 1}),
    Kind("start", "start_function", 8, frozenset({"ok"})),
    Kind("nap", "nap", 8, frozenset({"ok"}), args={"ms": 50}, deadline_ms=3000),
    Kind("timeout", "spin", 6, frozenset({"timeout"}), deadline_ms=200),
    Kind("memory_bomb", "memory_bomb", 5, frozenset({"memory_limit"}), deadline_ms=4000),
    Kind("crash", "crash", 5, frozenset({"runtime_error"}), deadline_ms=4000),
    Kind("output_bomb", "output_bomb", 5, frozenset({"output_limit"}), deadline_ms=4000),
    Kind("log_bomb", "log_bomb", 4, frozenset({"output_limit"}), deadline_ms=4000),
    Kind("raise", "raiser", 5, frozenset({"runtime_error"})),
    Kind("bad_return", "bad_return", 4, frozenset({"invalid_return"})),
    # 2 s of CPU before its 5 s deadline: on a loaded machine the deadline comes first.
    Kind("cpu_burn", "cpu_burn", 1, frozenset({"cpu_limit"}), deadline_ms=5000, timing=True),
    Kind("no_function", "missing_function", 3, frozenset({"NOT_FOUND"})),
    Kind("no_version", "good", 2, frozenset({"NOT_FOUND"}), version="0" * 64),
    Kind("bad_args", "good", 2, frozenset({"INVALID_ARGUMENT"}), args_json="{not json"),
)
# Any call may be refused by admission (it did not run), and under load on a shared
# machine any call may reach its deadline: both are answers, counted, never violations.
ALWAYS_ALLOWED = frozenset({"RESOURCE_EXHAUSTED", "timeout"})


@dataclass
class Record:
    call_id: str
    tenant: str
    kind: str
    answer: support.Answer
    seconds: float


@dataclass
class Report:
    seconds: float
    seed: int = 0
    workdir: str = ""  # the server's config, database and log (kept on a violation)
    sent: int = 0
    answered: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    refusals: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    faults_injected: dict[str, int] = field(default_factory=dict)
    calls_per_second: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)
    fds: dict[str, int] = field(default_factory=dict)
    rss_mib: dict[str, float] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)

    def as_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, sort_keys=True)


class Load:
    """Threads that call the server until told to stop; every call is recorded once."""

    def __init__(self, server: FaultServer, versions: dict[str, str], concurrency: int, seed: int):
        self.server = server
        self.versions = versions
        self.concurrency = concurrency
        self.seed = seed
        self.records: list[Record] = []
        self.sent = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._channels = [server.channel() for _ in range(concurrency)]

    def start(self) -> None:
        for index, channel in enumerate(self._channels):
            thread = threading.Thread(
                target=self._run, args=(index, pb_grpc.ToolPoolStub(channel)), name=f"soak-{index}"
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)
        self._threads.clear()
        self._stop.clear()

    def close(self) -> None:
        for channel in self._channels:
            channel.close()

    def _run(self, index: int, stub: pb_grpc.ToolPoolStub) -> None:
        rng = random.Random(self.seed * 1000 + index)
        weights = [k.weight for k in KINDS]
        while not self._stop.is_set():
            kind = rng.choices(KINDS, weights)[0]
            tenant = rng.choice(TENANTS)
            with self._lock:
                call_id = f"soak-{next(self._ids)}"
            request = support.execute_request(
                tenant,
                kind.function,
                version_id=kind.version or self.versions[tenant],
                args=kind.args,
                deadline_ms=kind.deadline_ms,
                call_id=call_id,
            )
            if kind.args_json is not None:
                request.args_json = kind.args_json
            with self._lock:
                self.sent += 1
            started = time.monotonic()
            answer = support.execute(stub, request, token=ANY_TOKEN, timeout=30)
            with self._lock:
                self.records.append(Record(call_id, tenant, kind.name, answer, time.monotonic() - started))


class Chaos:
    """Kills children of the template (mostly) and the template (rarely) while calls run."""

    def __init__(self, server: FaultServer, seed: int, template_kills: int = 3):
        self.server = server
        self.rng = random.Random(seed)
        self.template_kills = template_kills
        self.done: collections.Counter[str] = collections.Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.wait(self.rng.uniform(0.05, 0.25)):
            template = support.template_of(self.server.pid)
            if template is None:
                continue
            try:
                if self.done["template"] < self.template_kills and self.rng.random() < 0.04:
                    os.kill(template.pid, signal.SIGKILL)
                    self.done["template"] += 1
                    continue
                children = template.children()
                if children:
                    os.kill(self.rng.choice(children).pid, signal.SIGKILL)
                    self.done["child"] += 1
            except (ProcessLookupError, psutil.Error):
                self.done["missed"] += 1


def deploy_tenants(server: FaultServer) -> dict[str, str]:
    with server.channel() as channel:
        stub = pb_grpc.ToolPoolStub(channel)
        return {
            t: support.deploy(
                stub, t, {"tools.py": support.TOOLS + f"\n# tenant {t}\n"}, token=ANY_TOKEN
            ).deployed.version_id
            for t in TENANTS
        }


def _child_owned_files() -> list[str]:
    found = []
    for directory in ("/tmp", "/dev/shm"):
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid in CHILD_UIDS:
                    found.append(entry.path)
            except OSError:
                pass
    return found


def audit(report: Report, records: list[Record], sent: int, server: FaultServer, *, allow_crash_kinds: bool) -> None:
    """Fills the report's counts and violations from the records and the server's state."""
    v = report.violations
    report.sent = sent
    report.answered = sum(1 for r in records if r.answer.from_server)
    verdicts = collections.Counter(r.answer.status for r in records if r.answer.is_verdict)
    refusals = collections.Counter(
        f"{r.answer.code}/{r.answer.reason}" for r in records if r.answer.from_server and not r.answer.is_verdict
    )
    report.verdicts, report.refusals = dict(verdicts), dict(refusals)
    if len(records) != sent:
        v.append(f"{sent} calls sent but {len(records)} came back")
    if report.answered != sent:
        silent = [f"{r.call_id}: {r.answer.describe()}" for r in records if not r.answer.from_server]
        v.append(f"{sent - report.answered} calls got no answer from the server: {silent[:5]}")
    if sum(verdicts.values()) + sum(refusals.values()) != report.answered:
        v.append("verdicts + refusals != answered")

    by_kind: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for r in records:
        by_kind[r.kind][r.answer.status or r.answer.code or "?"] += 1
    report.by_kind = {k: dict(c) for k, c in sorted(by_kind.items())}
    for kind in KINDS:
        got = by_kind.get(kind.name, collections.Counter())
        allowed = kind.expect | ALWAYS_ALLOWED | ({"runtime_error", "internal_error"} if allow_crash_kinds else set())
        wrong = {k: n for k, n in got.items() if k not in allowed}
        if wrong:
            v.append(f"{kind.name} got {wrong}, expected {sorted(kind.expect)}")
        if sum(got.values()) >= 10 and not kind.timing and not any(got[e] for e in kind.expect):
            v.append(f"{kind.name}: {sum(got.values())} calls, none got {sorted(kind.expect)}")

    logged = support.calls_in_log(server.log())
    for r in records:
        if r.answer.is_verdict:
            statuses = logged.get(r.call_id, [])
            if statuses != [r.answer.status]:
                v.append(f"{r.call_id}: the client got {r.answer.status}, the server logged {statuses}")
    seen = {r.call_id for r in records if r.answer.is_verdict}
    ghosts = sorted({c for c in logged if c.startswith("soak-")} - seen)
    if ghosts:
        v.append(f"the server ran calls whose verdict no client received: {ghosts[:5]}")

    if any(os.scandir(server.tmpdir)):
        v.append(f"temporary files left in the server's TMPDIR: {os.listdir(server.tmpdir)[:5]}")
    owned = _child_owned_files()
    if owned:
        v.append(f"files owned by a child's uid on the host: {owned[:5]}")


def run_soak(
    seconds: float, *, concurrency: int = 6, seed: int | None = None, chaos: bool = False, workdir: Path | None = None
) -> Report:
    """Runs the soak and its audit; returns the report (``report.violations`` empty when all holds)."""
    seed = random.randrange(1 << 30) if seed is None else seed
    owned_dir = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="toolpool-soak-")) if workdir is None else workdir
    report = Report(seconds=seconds, seed=seed, workdir=str(workdir))
    config = support.write_fault_config(workdir, pool={"ready_children": READY}, admission=ADMISSION)
    server = FaultServer(config)
    load = None
    try:
        versions = deploy_tenants(server)
        load = Load(server, versions, concurrency, seed)
        # Warm-up: the same mix, long enough for caches and arenas to reach their steady state.
        load.start()
        time.sleep(min(max(seconds * 0.2, 3.0), 20.0))
        load.stop()
        support.wait_for_rest(server.pid, READY)
        fds_before, rss_before = support.fd_count(server.pid), support.rss_bytes(server.pid)
        warm_sent, warm_records = load.sent, len(load.records)

        fault = Chaos(server, seed) if chaos else None
        started = time.monotonic()
        load.start()
        if fault:
            fault.start()
        time.sleep(seconds)
        if fault:
            fault.stop()
            report.faults_injected = dict(fault.done)
        load.stop()
        elapsed = time.monotonic() - started

        if not server.alive():
            report.violations.append(f"the server died:\n{server.log()[-3000:]}")
            return report
        try:
            support.wait_for_rest(server.pid, READY)
        except AssertionError as leak:
            report.violations.append(str(leak))
        fds_after, rss_after = support.fd_count(server.pid), support.rss_bytes(server.pid)
        report.fds = {"after_warmup": fds_before, "after_run": fds_after}
        report.rss_mib = {
            "after_warmup": round(rss_before / 2**20, 1),
            "after_run": round(rss_after / 2**20, 1),
            "bound_growth": RSS_GROWTH_BOUND / 2**20,
        }
        if fds_after != fds_before:
            report.violations.append(f"the server holds {fds_after} file descriptors, {fds_before} before the run")
        if rss_after - rss_before > RSS_GROWTH_BOUND:
            report.violations.append(f"RSS grew by {(rss_after - rss_before) / 2**20:.1f} MiB")

        audit(report, load.records, load.sent, server, allow_crash_kinds=chaos)
        measured = load.records[warm_records:]
        report.calls_per_second = round((load.sent - warm_sent) / elapsed, 1)
        latencies = sorted(r.seconds * 1000 for r in measured if r.kind == "good" and r.answer.status == "ok")
        if latencies:
            report.latency_ms = {
                "good_p50": round(statistics.median(latencies), 1),
                "good_p99": round(latencies[int(len(latencies) * 0.99) - 1], 1),
            }
        processes = support.tree(server.pid)
        code = server.terminate()
        if code != 0:
            report.violations.append(f"the server exited {code} on SIGTERM")
        _, alive = psutil.wait_procs(processes, timeout=15)
        if alive:
            report.violations.append(f"processes outlived the server: {[p.pid for p in alive]}")
        return report
    finally:
        if load is not None:
            load.stop()
            load.close()
        server.kill()
        if owned_dir and not report.violations:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("TOOLPOOL_SOAK_SECONDS", 30)))
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--chaos", action="store_true", help="kill children and the template during the run")
    args = parser.parse_args(argv)
    report = run_soak(args.seconds, concurrency=args.concurrency, seed=args.seed, chaos=args.chaos)
    sys.stdout.write(report.as_json() + "\n")
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
