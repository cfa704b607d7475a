"""The load generator: open-loop (Poisson), closed-loop (N callers) and step (find the knee).

Open-loop latency is measured from each call's INTENDED send time (its slot on the
Poisson schedule), not from when the generator got around to sending it: a stalled
service then shows up as latency instead of silently lowering the offered rate
(coordinated omission). The generator's own lateness is reported as ``send_lag_ms``.

Every run records, per call: label, verdict, latency; and for the run: achieved
throughput, the CPU of the bench process and of the driver's outside processes, and
deadline misses (a call whose latency from its intended send exceeds its budget).
"""

from __future__ import annotations

import os
import random
import resource
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import stats, workloads
from bench.drivers import Driver
from bench.workloads import Call

_now = time.perf_counter


@dataclass
class Sample:
    label: str
    verdict: str
    latency_ms: float
    budget_ms: int
    done_at: float  # seconds after the run's start


@dataclass
class Run:
    """One measured run; ``summary()`` is what goes into the JSON."""

    id: str
    driver: str
    workload: str
    mode: str  # open | closed
    offered_rate: float | None = None
    concurrency: int | None = None
    duration_s: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    send_lag_ms: list[float] = field(default_factory=list)
    sent: int = 0
    unsupported: int = 0
    elapsed_s: float = 0.0
    bench_cpu_s: float = 0.0
    outside_cpu_s: float = 0.0
    machine_busy_s: float = 0.0  # every process on the machine, ours included
    machine_steal_s: float = 0.0  # time the hypervisor gave our vCPUs to someone else
    rounds: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def latencies(self, label: str | None = None, verdict: str | None = None) -> list[float]:
        return [
            s.latency_ms
            for s in self.samples
            if (label is None or s.label == label) and (verdict is None or s.verdict == verdict)
        ]

    def summary(self, cdf: bool = True) -> dict[str, Any]:
        n = len(self.samples)
        lat = stats.summarize(self.latencies())
        verdicts = Counter(s.verdict for s in self.samples)
        by_label: dict[str, Any] = {}
        for label in sorted({s.label for s in self.samples}):
            by_label[label] = {
                "latency_ms": _round_summary(stats.summarize(self.latencies(label))),
                "verdicts": dict(Counter(s.verdict for s in self.samples if s.label == label)),
            }
        out: dict[str, Any] = {
            "id": self.id,
            "driver": self.driver,
            "workload": self.workload,
            "mode": self.mode,
            "offered_rate": self.offered_rate,
            "concurrency": self.concurrency,
            "duration_s": round(self.duration_s, 3),
            "elapsed_s": round(self.elapsed_s, 3),
            "sent": self.sent,
            "completed": n,
            "unsupported": self.unsupported,
            "throughput": round(n / self.elapsed_s, 2) if self.elapsed_s else None,
            "latency_ms": _round_summary(lat),
            "verdicts": dict(verdicts),
            "by_label": by_label,
            "deadline_misses": sum(1 for s in self.samples if s.latency_ms > s.budget_ms),
            "send_lag_ms": _round_summary(stats.summarize(self.send_lag_ms)),
            "cpu_ms_per_call": {
                "bench_process": _per_call(self.bench_cpu_s, n),
                "outside": _per_call(self.outside_cpu_s, n),
                "total": _per_call(self.bench_cpu_s + self.outside_cpu_s, n),
            },
            # How busy the machine was with OTHER work during this run, in cores (the
            # machine's busy CPU minus this run's own), and the hypervisor's steal.
            "background": {
                "others_busy_cores": _cores(
                    self.machine_busy_s - self.bench_cpu_s - self.outside_cpu_s, self.elapsed_s
                ),
                "steal_cores": _cores(self.machine_steal_s, self.elapsed_s),
            },
            "rounds": self.rounds,
            **self.extra,
        }
        if cdf:
            out["cdf"] = [[round(v, 3), round(f, 5)] for v, f in stats.cdf_points(self.latencies())]
        return out


def _cores(seconds: float, elapsed: float) -> float | None:
    return round(max(seconds, 0.0) / elapsed, 3) if elapsed else None


def merge(runs: list[Run]) -> Run:
    """One Run from several rounds of the same experiment (interleaved with other drivers)."""
    first = runs[0]
    out = Run(
        first.id,
        first.driver,
        first.workload,
        first.mode,
        offered_rate=first.offered_rate,
        concurrency=first.concurrency,
        rounds=len(runs),
    )
    for r in runs:
        out.duration_s += r.duration_s
        out.elapsed_s += r.elapsed_s
        out.samples += r.samples
        out.send_lag_ms += r.send_lag_ms
        out.sent += r.sent
        out.unsupported += r.unsupported
        out.bench_cpu_s += r.bench_cpu_s
        out.outside_cpu_s += r.outside_cpu_s
        out.machine_busy_s += r.machine_busy_s
        out.machine_steal_s += r.machine_steal_s
        out.extra["abandoned"] = out.extra.get("abandoned", 0) + r.extra.get("abandoned", 0)
    return out


def _per_call(seconds: float, n: int) -> float | None:
    return round(seconds * 1000.0 / n, 3) if n else None


def _round_summary(summary: dict) -> dict:
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in summary.items()}


def _self_cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


_TICK = os.sysconf("SC_CLK_TCK")


def machine_cpu_s() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine so far, from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq) / _TICK, steal / _TICK


class Progress:
    """One status line on stderr, redrawn in place on a terminal, else every few seconds."""

    def __init__(self, enabled: bool = True, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last = 0.0

    def update(self, text: str, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if force or now - self._last >= 0.2:
                self.stream.write("\r\x1b[2K" + text[:150])
                self.stream.flush()
                self._last = now
        elif force or now - self._last >= 5.0:
            self.stream.write(text + "\n")
            self.stream.flush()
            self._last = now

    def done(self, text: str) -> None:
        if not self.enabled:
            return
        if self.tty:
            self.stream.write("\r\x1b[2K")
        self.stream.write(text + "\n")
        self.stream.flush()


class _Collector:
    def __init__(self, run: Run, t0: float) -> None:
        self.run = run
        self.t0 = t0
        self.lock = threading.Lock()
        self.outstanding = 0
        self.all_done = threading.Event()
        self.all_done.set()

    def started(self) -> None:
        with self.lock:
            self.outstanding += 1
            self.all_done.clear()

    def finished(self, call: Call, verdict: str, t_ref: float) -> None:
        now = _now()
        latency = (now - t_ref) * 1000.0
        with self.lock:
            self.run.samples.append(Sample(call.label, verdict, latency, call.budget_ms, now - self.t0))
            self.outstanding -= 1
            if self.outstanding == 0:
                self.all_done.set()


def _status_text(run: Run, collector: _Collector, t0: float) -> str:
    done = len(run.samples)
    recent = sorted(s.latency_ms for s in run.samples[-200:])
    p50 = recent[len(recent) // 2] if recent else 0.0
    p99 = recent[int(len(recent) * 0.99)] if recent else 0.0
    elapsed = _now() - t0
    rate = done / elapsed if elapsed > 0 else 0.0
    return (
        f"{run.id}: {min(elapsed, run.duration_s):5.1f}/{run.duration_s:.1f}s sent {run.sent} "
        f"done {done} in-flight {collector.outstanding} {rate:6.0f}/s recent p50 {p50:.2f} "
        f"p99 {p99:.2f} ms"
    )


def _finish(
    run: Run,
    driver: Driver,
    collector: _Collector,
    t0: float,
    cpu0: tuple[float, ...],
    progress: Progress,
    drain_s: float,
) -> Run:
    collector.all_done.wait(drain_s)
    # Throughput = answers / time to the last answer (at least the run's duration).
    with collector.lock:
        last = max((x.done_at for x in run.samples), default=0.0)
    run.elapsed_s = max(run.duration_s, last)
    run.bench_cpu_s = _self_cpu_s() - cpu0[0]
    run.outside_cpu_s = driver.outside_cpu_s() - cpu0[1]
    busy, steal = machine_cpu_s()
    # Over the same window as the other CPU figures (the drain included).
    run.machine_busy_s = busy - cpu0[2]
    run.machine_steal_s = steal - cpu0[3]
    with collector.lock:
        run.extra["abandoned"] = collector.outstanding  # still running when the drain gave up
    s = run.summary(cdf=False)
    lat = s["latency_ms"]
    progress.done(
        f"{run.id}: {s['completed']} calls, {s['throughput']}/s, p50 {lat['p50']} p99 {lat['p99']} "
        f"max {lat['max']} ms, verdicts {s['verdicts']}, background {s['background']['others_busy_cores']} "
        f"cores"
    )
    return run


def open_loop(
    driver: Driver,
    next_call: Callable[[random.Random], Call],
    *,
    rate: float,
    duration_s: float,
    run_id: str,
    workload: str,
    seed: int = 1,
    progress: Progress | None = None,
    drain_s: float = 30.0,
) -> Run:
    """Poisson arrivals at ``rate``/s for ``duration_s``; latency from the intended send time."""
    progress = progress or Progress(False)
    rng = random.Random(seed)
    run = Run(run_id, driver.name, workload, "open", offered_rate=rate, duration_s=duration_s)
    cpu0 = (_self_cpu_s(), driver.outside_cpu_s(), *machine_cpu_s())
    t0 = _now()
    collector = _Collector(run, t0)
    intended = t0
    while True:
        intended += rng.expovariate(rate)
        if intended - t0 >= duration_s:
            break
        call = next_call(rng)
        if not driver.supports(call):
            run.unsupported += 1
            continue
        delay = intended - _now()
        if delay > 0:
            time.sleep(delay)
        run.send_lag_ms.append(max(0.0, (_now() - intended) * 1000.0))
        collector.started()
        run.sent += 1
        driver.submit(call, lambda verdict, c=call, t=intended: collector.finished(c, verdict, t))
        progress.update(_status_text(run, collector, t0))
    return _finish(run, driver, collector, t0, cpu0, progress, drain_s)


def closed_loop(
    driver: Driver,
    next_call: Callable[[random.Random], Call],
    *,
    concurrency: int,
    duration_s: float,
    run_id: str,
    workload: str,
    seed: int = 1,
    progress: Progress | None = None,
    drain_s: float = 30.0,
) -> Run:
    """``concurrency`` callers, each sending its next call when the previous one answers."""
    progress = progress or Progress(False)
    rng = random.Random(seed)
    rng_lock = threading.Lock()
    run = Run(run_id, driver.name, workload, "closed", concurrency=concurrency, duration_s=duration_s)
    cpu0 = (_self_cpu_s(), driver.outside_cpu_s(), *machine_cpu_s())
    t0 = _now()
    collector = _Collector(run, t0)
    stop_at = t0 + duration_s

    def send_next() -> None:
        while True:
            with rng_lock:
                call = next_call(rng)
            if driver.supports(call):
                break
            run.unsupported += 1
        sent_at = _now()
        collector.started()
        with collector.lock:
            run.sent += 1

        def answered(verdict: str) -> None:
            collector.finished(call, verdict, sent_at)
            if _now() < stop_at:
                send_next()

        driver.submit(call, answered)

    for _ in range(concurrency):
        send_next()
    while _now() < stop_at:
        time.sleep(0.05)
        progress.update(_status_text(run, collector, t0))
    return _finish(run, driver, collector, t0, cpu0, progress, drain_s)


def step(
    driver: Driver,
    next_call: Callable[[random.Random], Call],
    *,
    rates: list[float],
    step_s: float,
    p99_bound_ms: float,
    run_id: str,
    workload: str,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Open-loop steps of rising rate until p99 passes the bound or the service falls behind.

    The knee is the highest offered rate whose p99 stayed within the bound, with at least
    95% of calls answered ``ok`` and achieved throughput within 10% of the offer.
    """
    steps = []
    knee = None
    for i, rate in enumerate(rates):
        run = open_loop(
            driver,
            next_call,
            rate=rate,
            duration_s=step_s,
            run_id=f"{run_id}@{rate:g}",
            workload=workload,
            seed=100 + i,
            progress=progress,
            drain_s=10.0,
        )
        s = run.summary(cdf=False)
        ok_fraction = s["verdicts"].get("ok", 0) / max(1, s["completed"])
        p99 = s["latency_ms"]["p99"]
        good = p99 is not None and p99 <= p99_bound_ms and ok_fraction >= 0.95 and (s["throughput"] or 0) >= 0.9 * rate
        steps.append(
            {
                "rate": rate,
                "throughput": s["throughput"],
                "latency_ms": s["latency_ms"],
                "ok_fraction": round(ok_fraction, 4),
                "within_bound": good,
                "cpu_ms_per_call": s["cpu_ms_per_call"],
                "verdicts": s["verdicts"],
            }
        )
        if good:
            knee = rate
        else:
            break
    return {
        "id": run_id,
        "driver": driver.name,
        "workload": workload,
        "p99_bound_ms": p99_bound_ms,
        "step_s": step_s,
        "steps": steps,
        "knee_rate": knee,
        "max_throughput_seen": max((s["throughput"] or 0) for s in steps) if steps else None,
    }


def closed_summary(
    driver: Driver, workload: str, *, concurrency: int, duration_s: float, seed: int, progress: Progress | None = None
) -> dict[str, Any]:
    """One closed loop of the named workload, summarized (no CDF): the benches' common round."""
    run = closed_loop(
        driver,
        workloads.workload(workload),
        concurrency=concurrency,
        duration_s=duration_s,
        run_id=f"{driver.name}/{workload}/closed@{concurrency}",
        workload=workload,
        seed=seed,
        progress=progress,
    )
    return run.summary(cdf=False)
