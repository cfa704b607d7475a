"""python -m bench noisy: tenant B's greeting while tenant A spins, per-tenant CPU groups on and off.

    python -m bench noisy [--rounds 5] [--duration 10] [--rate 50] [--flood N] [--drivers pool,grpc]

Target (issue 18): B's ``start_function`` p99 at most 1.5x its quiet p99 while tenant A
fills its slots with tools that spin until their deadline, through the pool and over gRPC.

Each driver runs twice, side by side: with a CPU group per tenant (``sandbox/supervisor/cgroups.py``,
the service's default) and without. A round measures each of the two in turn, the order
alternating from round to round (on, off; off, on; ...), so load that other work puts on
the shared machine falls on both alike. In a round, per instance: B's ``start_function``
at ``--rate``/s (Poisson, latency from the intended send time) alone for ``--duration``
seconds, then again while ``--flood`` closed-loop callers of tenant A run ``spin_a``
(an infinite loop, 500 ms deadline). ``--flood`` defaults to A's slots in the service
(``admission.tenant_concurrency``: half of max(4, 2 x CPUs)), so over gRPC A holds every
slot it may have and never queues, and the pool gets the same number of spinners.

The figure judged is the median over rounds of each round's ratio (B's p99 with A / B's
p99 alone), since one round's p99 on a shared 2-vCPU machine moves a lot; the p99 of all
rounds merged is shown beside it. Figures go to OUT/noisy.json and, as a section of
their own, to bench/RESULTS.md.
"""

from __future__ import annotations

import glob
import json
import os
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from bench import drivers, loadgen, report, workloads

SECTION_NAME = "noisy-cgroups"
TARGET = 1.5


def default_flood() -> int:
    """A tenant's slots in the service with the shipped defaults (worker/config.py)."""
    return max(1, max(4, 2 * (os.cpu_count() or 1)) // 2)


def measure(
    driver: drivers.Driver,
    *,
    flood_workload: str,
    flood: int,
    rate: float,
    duration_s: float,
    seed: int,
    prefix: str,
    progress: loadgen.Progress | None = None,
) -> tuple[loadgen.Run, loadgen.Run, dict[str, Any]]:
    """B alone, then B while A floods: (B quiet run, B noisy run, A's run summary)."""
    next_b = workloads.workload("start_function_b")
    quiet = loadgen.open_loop(
        driver,
        next_b,
        rate=rate,
        duration_s=duration_s,
        run_id=f"{prefix}/B-quiet",
        workload="start_function",
        seed=seed,
        progress=progress,
    )
    flood_run: dict[str, Any] = {}

    def run_a() -> None:
        run = loadgen.closed_loop(
            driver,
            workloads.workload(flood_workload),
            concurrency=flood,
            duration_s=duration_s + 1.5,
            run_id=f"{prefix}/A-flood",
            workload=flood_workload,
        )
        flood_run["run"] = run.summary(cdf=False)

    a = threading.Thread(target=run_a, name="bench-noisy-a")
    a.start()
    time.sleep(1.0)  # A's flood reaches its steady state first
    noisy = loadgen.open_loop(
        driver,
        next_b,
        rate=rate,
        duration_s=duration_s,
        run_id=f"{prefix}/B-with-A",
        workload="start_function",
        seed=seed,
        progress=progress,
    )
    a.join()
    return quiet, noisy, flood_run.get("run", {})


def cgroup_status(driver: drivers.Driver) -> str:
    """Whether the instance really runs with per-tenant groups: the pool says so; for a
    server, its parent group (toolpool-<server pid>-N) must exist."""
    if isinstance(driver, drivers.PoolDriver):
        return driver.pool.stats()["cgroups"]
    from sandbox.supervisor.cgroup_host import Unavailable, locate

    try:
        version, base = locate(None)
    except Unavailable as exc:
        return f"off: {exc}"
    return version if glob.glob(os.path.join(base, f"toolpool-{driver.server_proc.pid}-*")) else "off"


def _make(kind: str, out: Path, cgroups: bool) -> drivers.Driver:
    if kind == "pool":
        return drivers.PoolDriver(cgroups=cgroups)
    return drivers.GrpcDriver(out, server_settings={"cgroups": {"enabled": cgroups}})


def _start(driver: drivers.Driver) -> None:
    """``driver.start()``; a server it started is stopped again if the start fails half-way."""
    try:
        driver.start()
    except BaseException:
        server = getattr(driver, "server_proc", None)
        if server is not None:
            drivers._stop_subprocess(server)
        raise


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def _p(run: loadgen.Run, key: str) -> float | None:
    return run.summary(cdf=False)["latency_ms"][key]


def run(
    out: Path,
    results: Path,
    *,
    kinds: list[str],
    rounds: int,
    duration_s: float,
    rate: float,
    flood: int,
    flood_workload: str = "spin_a",
) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    started: dict[tuple[str, bool], drivers.Driver] = {}
    samples: dict[tuple[str, bool], dict[str, list]] = {}
    progress = loadgen.Progress(True)
    try:
        for kind in kinds:
            for on in (True, False):
                driver = _make(kind, out, on)
                _start(driver)
                started[(kind, on)] = driver
                samples[(kind, on)] = {"quiet": [], "noisy": [], "flood": [], "background": []}
                loadgen.closed_loop(
                    driver,
                    workloads.workload("start_function_b"),
                    concurrency=2,
                    duration_s=1.0,
                    run_id="warm-up",
                    workload="start_function",
                )
        statuses = {key: cgroup_status(driver) for key, driver in started.items()}
        for index in range(rounds):
            for kind in kinds:
                for on in (True, False) if index % 2 == 0 else (False, True):
                    label = f"{kind}-cgroups-{'on' if on else 'off'}"
                    progress.done(f"== round {index + 1}/{rounds}: {label}")
                    quiet, noisy, flood_run = measure(
                        started[(kind, on)],
                        flood_workload=flood_workload,
                        flood=flood,
                        rate=rate,
                        duration_s=duration_s,
                        seed=100 + index,
                        prefix=f"{label}/{index}",
                        progress=progress,
                    )
                    bucket = samples[(kind, on)]
                    bucket["quiet"].append(quiet)
                    bucket["noisy"].append(noisy)
                    bucket["flood"].append(flood_run)
                    bucket["background"].append(noisy.summary(cdf=False)["background"]["others_busy_cores"])
    finally:
        for driver in started.values():
            driver.close()
    figures = {
        f"{kind}/{'on' if on else 'off'}": _figures(kind, statuses[(kind, on)], bucket)
        for (kind, on), bucket in samples.items()
    }
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB",
        "commit": report.metadata([], False, None).get("commit"),
        "rounds": rounds,
        "duration_s": duration_s,
        "rate_per_s": rate,
        "flood": flood,
        "flood_workload": flood_workload,
        "figures": figures,
    }
    (out / "noisy.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    report.write_section(results, SECTION_NAME, render(result))
    return result


def _figures(kind: str, status: str, bucket: dict[str, list]) -> dict[str, Any]:
    pairs = list(zip(bucket["quiet"], bucket["noisy"], strict=True))
    ratios = [_ratio(_p(noisy, "p99"), _p(quiet, "p99")) for quiet, noisy in pairs]
    measured = [r for r in ratios if r is not None]
    median = statistics.median(measured) if measured else None
    quiet, noisy = loadgen.merge(bucket["quiet"]).summary(cdf=False), loadgen.merge(bucket["noisy"]).summary(cdf=False)
    a_verdicts: dict[str, int] = {}
    for flood in bucket["flood"]:
        for verdict, count in (flood.get("verdicts") or {}).items():
            a_verdicts[verdict] = a_verdicts.get(verdict, 0) + count
    a_rates = [flood.get("throughput") or 0.0 for flood in bucket["flood"]]
    return {
        "driver": kind,
        "cgroups": status,
        "quiet_ms": quiet["latency_ms"],
        "noisy_ms": noisy["latency_ms"],
        "round_p99_ms": [[_p(q, "p99"), _p(n, "p99")] for q, n in pairs],
        "round_ratios": ratios,
        "median_ratio": median,
        "merged_ratio": _ratio(noisy["latency_ms"]["p99"], quiet["latency_ms"]["p99"]),
        "met": None if median is None else median <= TARGET,
        "b_verdicts": {"quiet": quiet["verdicts"], "noisy": noisy["verdicts"]},
        "a_verdicts": a_verdicts,
        "a_calls_per_s": round(statistics.fmean(a_rates), 1) if a_rates else None,
        "others_busy_cores": bucket["background"],
    }


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def render(result: dict[str, Any]) -> str:
    lines = [
        "## Noisy neighbour: tenant B's greeting while tenant A spins, CPU groups per tenant on and off",
        "",
        f"`python -m bench noisy` ({result['when']}, {result['machine']}, commit {(result['commit'] or '?')[:7]}). "
        f"Tenant B's `start_function` at {result['rate_per_s']:g}/s (Poisson), {result['rounds']} rounds of "
        f"{result['duration_s']:g} s alone, then {result['duration_s']:g} s while {result['flood']} closed-loop "
        f"callers of tenant A run `{result['flood_workload']}` (tools that spin until their 500 ms deadline: A's "
        "slots full). Each round measures cgroups on and off in turn, alternating which goes first. Target: B's "
        f"p99 with A ≤ {TARGET}× its p99 alone, judged on the median of the rounds' ratios.",
        "",
        "| driver | cgroups | B p50 / p99 alone (ms) | B p50 / p99 with A (ms) | p99 ratio per round | "
        "median ratio | merged ratio | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in result["figures"].values():
        q, n = f["quiet_ms"], f["noisy_ms"]
        status = "not measured" if f["met"] is None else ("met" if f["met"] else "**MISSED**")
        lines.append(
            f"| {f['driver']} | {f['cgroups']} | {_fmt(q['p50'])} / {_fmt(q['p99'])} | "
            f"{_fmt(n['p50'])} / {_fmt(n['p99'])} | {', '.join(_fmt(r) for r in f['round_ratios'])} | "
            f"{_fmt(f['median_ratio'])} | {_fmt(f['merged_ratio'])} | {status} |"
        )
    lines += [
        "",
        "B's verdicts and A's calls, per setting (other load on the machine during B's noisy runs, in "
        "busy cores, per round):",
        "",
    ]
    for key, f in result["figures"].items():
        background = ", ".join(_fmt(b) for b in f["others_busy_cores"])
        lines.append(
            f"- {key}: B alone {f['b_verdicts']['quiet']}, with A {f['b_verdicts']['noisy']}; A "
            f"{f['a_calls_per_s']} calls/s {json.dumps(f['a_verdicts'], sort_keys=True)}; others: "
            f"{background}"
        )
    return "\n".join(lines)


__all__ = ["default_flood", "measure", "render", "run"]
