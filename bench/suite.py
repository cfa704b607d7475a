"""The whole bench in one run: every driver, workload and figure, then JSON, PNG, RESULTS.md.

All baselines run in the same process, one driver after another, on the same machine,
so their figures can be compared; absolute numbers on a shared VM move between runs.
The plan (durations, rates) has a full and a quick form; ``--quick`` takes a few seconds
and is what tests/test_bench_smoke.py runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import drivers, loadgen, memory, overshoot, procs, workloads
from bench.loadgen import Progress
from bench.noisy import measure

# Baselines that start a new interpreter per call: they cannot take the target's rate, so the
# headline runs them at spawn_rate and spawn_concurrency, and the other figures skip them.
SLOW_DRIVERS = ("spawn", "codejail")


@dataclass
class Plan:
    quick: bool
    open_s: float = 15.0  # each open-loop run
    closed_s: float = 8.0  # each closed-loop (saturation) run
    warmup_s: float = 1.0
    rate: float = 200.0  # the target's open-loop rate
    mix_rate: float = 100.0
    concurrency: int = 8
    spawn_rate: float = 10.0  # spawn-per-call and codejail cannot take 200/s: their own latency run
    spawn_concurrency: int = 4
    step_rates: list[float] = field(default_factory=lambda: [100, 200, 400, 600, 800, 1000, 1300, 1600, 2000, 2500])
    step_s: float = 4.0
    step_bound_ms: float = 50.0
    noisy_rate: float = 50.0
    noisy_s: float = 15.0
    noisy_concurrency: int = 8
    overshoot_n: int = 300
    rounds: int = 5  # the headline runs are split into this many interleaved rounds
    settle_s: float = 2.0  # idle time before each of a driver's other runs
    procs: dict[str, Any] = field(default_factory=lambda: {"n": 100, "slow_n": 20, "seconds": 3.0, "ipc_n": 2000})
    workloads: tuple[str, ...] = ("trivial", "start_function", "state_10k", "state_100k", "mix")

    @classmethod
    def make(cls, quick: bool) -> Plan:
        if not quick:
            return cls(quick=False)
        return cls(
            quick=True,
            open_s=0.4,
            closed_s=0.4,
            warmup_s=0.1,
            rate=100.0,
            mix_rate=50.0,
            concurrency=4,
            spawn_rate=5.0,
            spawn_concurrency=2,
            step_rates=[100, 200],
            step_s=0.3,
            noisy_rate=40.0,
            noisy_s=0.5,
            noisy_concurrency=2,
            overshoot_n=2,
            rounds=2,
            settle_s=0.0,
            procs={"n": 2, "slow_n": 1, "seconds": 0.1, "ipc_n": 20},
            workloads=("trivial", "mix"),
        )


class Suite:
    def __init__(
        self,
        plan: Plan,
        out_dir: Path,
        driver_names: list[str],
        *,
        target: str | None = None,
        token: str | None = None,
        progress: Progress | None = None,
        with_procs: bool = True,
        with_child_cost: bool = False,
    ) -> None:
        self.plan = plan
        self.out_dir = out_dir
        self.driver_names = driver_names
        self.target = target
        self.token = token
        self.progress = progress or Progress(True)
        self.with_procs = with_procs
        self.with_child_cost = with_child_cost
        self.runs: list[dict[str, Any]] = []
        self.steps: dict[str, Any] = {}
        self.memory: dict[str, Any] = {}
        self.overshoot: dict[str, Any] = {}
        self.noisy: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        self.described: dict[str, Any] = {}

    # -- one driver --------------------------------------------------------------------------

    def _open(self, driver: drivers.Driver, workload: str, rate: float, duration_s: float) -> dict[str, Any]:
        run = loadgen.open_loop(
            driver,
            workloads.workload(workload),
            rate=rate,
            duration_s=duration_s,
            run_id=f"{driver.name}/{workload}/open@{rate:g}",
            workload=workload,
            progress=self.progress,
        )
        summary = run.summary()
        self.runs.append(summary)
        return summary

    def _closed(
        self, driver: drivers.Driver, workload: str, concurrency: int, duration_s: float, record: bool = True
    ) -> dict[str, Any]:
        run = loadgen.closed_loop(
            driver,
            workloads.workload(workload),
            concurrency=concurrency,
            duration_s=duration_s,
            run_id=f"{driver.name}/{workload}/closed@{concurrency}",
            workload=workload,
            progress=self.progress,
        )
        summary = run.summary()
        if record:
            self.runs.append(summary)
        return summary

    # -- the headline comparisons, interleaved ---------------------------------------------

    def headline(self, started: dict[str, drivers.Driver]) -> None:
        """Open-loop trivial and start_function at the target rate, and closed-loop trivial, for
        every driver, in ``rounds`` short rounds that rotate through the drivers: background
        load that comes and goes (a shared VM) then hits every driver alike, and the
        comparisons between drivers stay fair. Each driver's rounds merge into one run."""
        p = self.plan
        parts: dict[str, list[loadgen.Run]] = {}
        names = list(started)
        for r in range(p.rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                driver = started[name]
                if name in SLOW_DRIVERS:
                    experiments = [("trivial", "open", p.spawn_rate), ("trivial", "closed", p.spawn_concurrency)]
                else:
                    experiments = [
                        ("trivial", "open", p.rate),
                        ("start_function", "open", p.rate),
                        ("trivial", "closed", p.concurrency),
                    ]
                for workload, mode, level in experiments:
                    if mode == "open":
                        run = loadgen.open_loop(
                            driver,
                            workloads.workload(workload),
                            rate=level,
                            duration_s=p.open_s / p.rounds,
                            seed=1000 * r + 1,
                            run_id=f"{driver.name}/{workload}/open@{level:g}",
                            workload=workload,
                            progress=self.progress,
                        )
                    else:
                        run = loadgen.closed_loop(
                            driver,
                            workloads.workload(workload),
                            concurrency=int(level),
                            duration_s=p.closed_s / p.rounds,
                            seed=1000 * r + 2,
                            run_id=f"{driver.name}/{workload}/closed@{int(level)}",
                            workload=workload,
                            progress=self.progress,
                        )
                    parts.setdefault(run.id, []).append(run)
        for runs in parts.values():
            summary = loadgen.merge(runs).summary()
            # Each round's own figures: background load comes and goes, so the spread (and
            # the quietest round) says how much of the merged figure is the machine.
            summary["round_figures"] = []
            for run in runs:
                r = run.summary(cdf=False)
                summary["round_figures"].append(
                    {
                        "throughput": r["throughput"],
                        "p50": r["latency_ms"]["p50"],
                        "p99": r["latency_ms"]["p99"],
                        "others_busy_cores": r["background"]["others_busy_cores"],
                    }
                )
            self.runs.append(summary)

    # -- the rest, one driver at a time ----------------------------------------------------

    def extras(self, name: str, driver: drivers.Driver) -> None:
        p = self.plan
        if name in SLOW_DRIVERS or name.endswith("reuse"):
            return
        # The step first, on a settled service: the heavy runs below can leave a backlog
        # (queued calls, children being replaced) that would skew its first steps.
        time.sleep(p.settle_s)
        self.steps[driver.name] = loadgen.step(
            driver,
            workloads.workload("trivial"),
            rates=p.step_rates,
            step_s=p.step_s,
            p99_bound_ms=p.step_bound_ms,
            run_id=f"{driver.name}/trivial/step",
            workload="trivial",
            progress=self.progress,
        )
        for workload in p.workloads:
            if workload in ("trivial", "start_function"):
                continue  # in the headline rounds
            time.sleep(p.settle_s)
            if workload == "mix":
                if name in ("floor", "echo"):
                    continue  # the floor cannot stop a loop; the echo has no verdicts to show
                self._open(driver, workload, p.mix_rate, p.open_s)
            else:
                self._open(driver, workload, p.rate, p.open_s)
        if name in ("pool", "grpc"):
            time.sleep(p.settle_s)
            self.overshoot[driver.name] = overshoot.measure(driver, p.overshoot_n, progress=self.progress)
            time.sleep(p.settle_s)
            self.noisy[driver.name] = self.noisy_neighbour(driver)

    def start_drivers(self) -> dict[str, drivers.Driver]:
        started: dict[str, drivers.Driver] = {}
        for name in self.driver_names:
            try:
                driver = drivers.make_driver(name, self.out_dir, target=self.target, token=self.token)
                self.progress.done(f"== {name}: starting")
                driver.start()
            except Exception as exc:  # noqa: BLE001 - reported; the other drivers still run
                self.errors[name] = f"start: {type(exc).__name__}: {exc}"
                self.progress.done(f"== {name}: FAILED to start: {self.errors[name]}")
                continue
            started[name] = driver
            self.described[driver.name] = driver.describe()
            self._closed(driver, "trivial", 2, self.plan.warmup_s, record=False)  # warm caches, connections
        return started

    def noisy_neighbour(self, driver: drivers.Driver) -> dict[str, Any]:
        """B's start_function latency alone, then while A floods with slow and hostile tools."""
        p = self.plan
        quiet, noisy, flood = measure(
            driver,
            flood_workload="noisy_a",
            flood=p.noisy_concurrency,
            rate=p.noisy_rate,
            duration_s=p.noisy_s,
            seed=7,
            prefix=f"{driver.name}/noisy",
            progress=self.progress,
        )
        q, n = quiet.summary(), noisy.summary()
        self.runs.extend([q, n])
        ratio = None
        if q["latency_ms"]["p99"] and n["latency_ms"]["p99"] is not None:
            ratio = round(n["latency_ms"]["p99"] / q["latency_ms"]["p99"], 3)
        return {
            "driver": driver.name,
            "b_rate": p.noisy_rate,
            "a_concurrency": p.noisy_concurrency,
            "quiet_run": q["id"],
            "noisy_run": n["id"],
            "b_quiet_latency_ms": q["latency_ms"],
            "b_noisy_latency_ms": n["latency_ms"],
            "b_noisy_verdicts": n["verdicts"],
            "p99_ratio": ratio,
            "a_flood": flood or None,
        }

    # -- everything ---------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        started_at = time.time()
        started = self.start_drivers()
        try:
            self.progress.done(f"== headline comparisons: {self.plan.rounds} interleaved rounds")
            try:
                self.headline(started)
            except Exception as exc:  # noqa: BLE001
                self.errors["headline"] = f"{type(exc).__name__}: {exc}"
            for driver in started.values():
                # Memory first: the pool has sat idle and topped up while the others ran.
                mem = memory.measure(driver)
                if mem is not None:
                    self.memory[driver.name] = mem
            for name, driver in started.items():
                self.progress.done(f"== {name}: other workloads, step, overshoot, noisy neighbour")
                try:
                    self.extras(name, driver)
                except Exception as exc:  # noqa: BLE001 - one driver's failure is reported, the rest still run
                    self.errors[name] = f"{type(exc).__name__}: {exc}"
                    self.progress.done(f"== {name}: FAILED: {self.errors[name]}")
        finally:
            for driver in started.values():
                try:
                    driver.close()
                except Exception as exc:  # noqa: BLE001
                    self.errors[f"close {driver.name}"] = f"{type(exc).__name__}: {exc}"
        procs_figures = None
        if self.with_procs:
            self.progress.done("== process creation and IPC alternatives")
            try:
                procs_figures = procs.run_all(**self.plan.procs)
            except Exception as exc:  # noqa: BLE001
                self.errors["procs"] = f"{type(exc).__name__}: {exc}"
        child_cost = None
        if self.with_child_cost:
            child_cost = run_child_cost(self.plan, self.errors)
        return {
            "runs": self.runs,
            "steps": self.steps,
            "memory": self.memory,
            "overshoot": self.overshoot,
            "noisy_neighbour": self.noisy,
            "procs": procs_figures,
            "child_cost": child_cost,
            "drivers": self.described,
            "errors": self.errors,
            "duration_s": round(time.time() - started_at, 1),
        }


def run_child_cost(plan: Plan, errors: dict[str, str]) -> dict[str, Any] | None:
    import json
    import subprocess
    import sys
    import tempfile

    repo = Path(__file__).resolve().parents[1]
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        try:
            subprocess.run(
                [sys.executable, "-m", "bench.child_cost", "--n", "10" if plan.quick else "200", "--json", f.name],
                cwd=repo,
                check=True,
                timeout=600,
                stdout=subprocess.DEVNULL,
            )
            return json.load(open(f.name))
        except (subprocess.SubprocessError, OSError, ValueError) as exc:
            errors["child_cost"] = f"{type(exc).__name__}: {exc}"
            return None
