"""python -m bench state-sweep: what a call's conversation state costs, by its size (issue 18).

    python -m bench state-sweep [--sizes 0,1k,10k,100k,1m] [--drivers grpc,pool] [--rounds 3]
                                [--duration 3] [--concurrency 2] [--rate 200] [--open-s 6]
                                [--baseline REV]

The seed's ``start_function`` is called with its London conversation, the state padded
to each size with 100-byte values under distinct keys (``workloads.greeting_conversation``;
"1m" is the largest such state under the cap, ``Limits.state_bytes``, 1 MiB). Two figures:

1. **CPU per call against the state's size.** Closed loops of ``--concurrency`` callers,
   ``--rounds`` rounds that visit every driver and size in a rotating order, so that the
   shared machine's drift falls on all of them alike; the median over rounds. CPU is the
   server's whole tree per call: for ``grpc`` the server process, its template and every
   child (``python -m worker.cli serve`` started here); for ``pool`` (``Pool.execute`` in
   this process) this process, which is the supervisor and the load generator, plus the
   template's tree. Reported: each size's figure, a least-squares line (intercept, slope
   per KiB, R²), and the 100 KiB − 0 difference against the target (≤ 3 ms over gRPC).
   ``--baseline REV`` adds a ``grpc`` server of another revision (bench/trees.py),
   measured in the same rounds.
2. **Does a size collapse the service at a rate it sustains for small state?** For each
   driver and size, one open loop at ``--rate`` calls/s (Poisson) for ``--open-s``
   seconds: answers that were ``ok``, refusals, p50 and p99 from the intended send time.
   The rate can be more than a large state's capacity (two cores / CPU per call): then
   what matters is that the service still answers about that capacity of calls ``ok``
   within their deadline and refuses the rest at once, instead of queueing them all.

Figures go to OUT/state-sweep.json, a PNG (CPU per call against size, with the fitted
lines) when matplotlib is there, and a section of their own in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench import drivers, loadgen, report, trees, workloads

SECTION_NAME = "state-sweep"
ROOT = Path(__file__).resolve().parent.parent
KIB = 1024
TARGET_MS = 3.0  # 100 KiB of state may cost at most this much CPU more than none, over gRPC
TARGET_KIB = 100
_SIZE_NAMES = {"0": 0, "1k": KIB, "10k": 10 * KIB, "100k": 100 * KIB, "1m": 1024 * KIB}


def parse_size(text: str) -> int:
    """ "0", "1k", "100k", "1m" or a number of bytes."""
    text = text.strip().lower()
    if text in _SIZE_NAMES:
        return _SIZE_NAMES[text]
    if text.endswith("k"):
        return int(float(text[:-1]) * KIB)
    if text.endswith("m"):
        return int(float(text[:-1]) * KIB * KIB)
    return int(text)


def size_label(size: int) -> str:
    if size >= KIB * KIB:
        return f"{size / KIB / KIB:g} MiB"
    return f"{size / KIB:g} KiB" if size else "0"


def state_call(size: int) -> workloads.Call:
    """The seed's start_function with its state padded to ``size`` bytes (at most, and under
    the 1 MiB cap with what the tool adds)."""
    conv = workloads.greeting_conversation(size)
    return workloads.Call("start_function", conversation=conv, kind=f"state_{size}")


def state_json_bytes(call: workloads.Call) -> int:
    return len(json.dumps(call.conversation["state"], ensure_ascii=False, separators=(",", ":")).encode())


def _server_tree_cpu_s(driver: drivers.Driver) -> float:
    """CPU seconds of the server's whole tree so far; for the in-process pool, this process too."""
    if isinstance(driver, drivers.PoolDriver):
        return loadgen._self_cpu_s() + driver.outside_cpu_s()
    return driver.outside_cpu_s()


def _closed(driver: drivers.Driver, call: workloads.Call, concurrency: int, duration_s: float) -> dict[str, Any]:
    before = _server_tree_cpu_s(driver)
    calls = {t: replace(call, tenant=t) for t in workloads.SPREAD}
    run = loadgen.closed_loop(
        driver,
        lambda rng: calls[rng.choice(workloads.SPREAD)],
        concurrency=concurrency,
        duration_s=duration_s,
        run_id=f"{driver.name}/{call.label}/closed@{concurrency}",
        workload=call.label,
        progress=loadgen.Progress(False),
    )
    summary = run.summary(cdf=False)
    n = summary["completed"]
    return {
        "calls": n,
        "ok": summary["verdicts"].get("ok", 0),
        "server_cpu_ms": 1000 * (_server_tree_cpu_s(driver) - before) / n if n else None,
        "total_cpu_ms": summary["cpu_ms_per_call"]["total"],
    }


def _open(driver: drivers.Driver, call: workloads.Call, rate: float, duration_s: float) -> dict[str, Any]:
    calls = {t: replace(call, tenant=t) for t in workloads.SPREAD}
    run = loadgen.open_loop(
        driver,
        lambda rng: calls[rng.choice(workloads.SPREAD)],
        rate=rate,
        duration_s=duration_s,
        run_id=f"{driver.name}/{call.label}/open@{rate:g}",
        workload=call.label,
        progress=loadgen.Progress(False),
    )
    s = run.summary(cdf=False)
    ok = s["verdicts"].get("ok", 0)
    return {
        "sent": s["sent"],
        "completed": s["completed"],
        "ok": ok,
        "verdicts": s["verdicts"],
        "ok_per_s": round(ok / s["elapsed_s"], 2) if s["elapsed_s"] else None,
        "p50_ms": s["latency_ms"].get("p50"),
        "p99_ms": s["latency_ms"].get("p99"),
        "ok_p50_ms": _percentile(run.latencies(verdict="ok"), 0.5),
        "ok_p99_ms": _percentile(run.latencies(verdict="ok"), 0.99),
        "deadline_misses": s["deadline_misses"],
        "cpu_ms_per_call": s["cpu_ms_per_call"]["total"],
        "background_cores": s["background"]["others_busy_cores"],
    }


def _percentile(values: list[float], q: float) -> float | None:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * q))], 3) if values else None


def fit(points: list[tuple[float, float]]) -> dict[str, float] | None:
    """Least squares y = a + b x, and R²."""
    if len(points) < 2:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if not sxx:
        return None
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    intercept = my - slope * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - intercept - slope * x) ** 2 for x, y in points)
    return {"intercept_ms": intercept, "slope_us_per_kib": slope * 1000, "r2": 1 - ss_res / ss_tot if ss_tot else 1.0}


def _drivers(names: list[str], out: Path, baseline: str | None, where: Path) -> dict[str, drivers.Driver]:
    made: dict[str, drivers.Driver] = {}
    for name in names:
        made[name] = drivers.make_driver(name, out)
    if baseline:
        tree = trees.baseline_tree(trees.short_revision(baseline), where)
        base = drivers.GrpcDriver(out, tree=tree)
        base.name = f"grpc@{trees.short_revision(baseline)}"
        made[base.name] = base
    return made


def run(
    out: Path,
    *,
    sizes: list[int],
    driver_names: list[str],
    rounds: int,
    duration_s: float,
    concurrency: int,
    rate: float,
    open_s: float,
    baseline: str | None = None,
) -> dict[str, Any]:
    calls = {size: state_call(size) for size in sizes}
    cpu: dict[str, dict[int, list[dict[str, Any]]]] = {}
    opened: dict[str, dict[int, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="toolpool-sweep-") as tmp:
        started = _drivers(driver_names, out, baseline, Path(tmp))
        try:
            for driver in started.values():
                driver.start()
                for size in sizes:  # warm: compiled bundles, connections, request caches
                    _closed(driver, calls[size], concurrency, 0.3)
            names = list(started)
            for r in range(rounds):
                order = sizes[r % len(sizes) :] + sizes[: r % len(sizes)]
                for i, size in enumerate(order):
                    for name in names[(r + i) % len(names) :] + names[: (r + i) % len(names)]:
                        figures = _closed(started[name], calls[size], concurrency, duration_s)
                        cpu.setdefault(name, {}).setdefault(size, []).append(figures)
                        print(
                            f"round {r + 1}/{rounds} {name:>14} {size_label(size):>9}: "
                            f"{figures['calls']} calls, server {figures['server_cpu_ms']:.2f} ms/call",
                            flush=True,
                        )
            if open_s > 0:
                for size in sizes:
                    for name in names:
                        opened.setdefault(name, {})[size] = figures = _open(started[name], calls[size], rate, open_s)
                        print(
                            f"open {name:>14} {size_label(size):>9} @{rate:g}/s: ok {figures['ok_per_s']}/s "
                            f"p50 {figures['p50_ms']} p99 {figures['p99_ms']} ms {figures['verdicts']}",
                            flush=True,
                        )
        finally:
            for driver in started.values():
                driver.close()
                if isinstance(driver, drivers.GrpcDriver) and driver.tree is not None:
                    trees.remove_tree(driver.tree)
    return summarize(
        cpu,
        opened,
        sizes,
        {s: state_json_bytes(c) for s, c in calls.items()},
        rounds=rounds,
        duration_s=duration_s,
        concurrency=concurrency,
        rate=rate,
        open_s=open_s,
        baseline=baseline,
    )


def summarize(cpu: dict, opened: dict, sizes: list[int], state_bytes: dict[int, int], **plan: Any) -> dict[str, Any]:
    by_driver: dict[str, Any] = {}
    for name, per_size in cpu.items():
        rows = {}
        for size, samples in per_size.items():
            server = [s["server_cpu_ms"] for s in samples if s["server_cpu_ms"] is not None]
            total = [s["total_cpu_ms"] for s in samples if s["total_cpu_ms"] is not None]
            rows[size] = {
                "server_cpu_ms": statistics.median(server) if server else None,
                "total_cpu_ms": statistics.median(total) if total else None,
                "server_cpu_ms_rounds": server,
                "calls": sum(s["calls"] for s in samples),
                "ok": sum(s["ok"] for s in samples),
            }
        points = [
            (size / KIB, rows[size]["server_cpu_ms"])
            for size in sizes
            if size in rows and rows[size]["server_cpu_ms"] is not None
        ]
        line = fit(points)
        zero, target = rows.get(0, {}).get("server_cpu_ms"), rows.get(TARGET_KIB * KIB, {}).get("server_cpu_ms")
        difference = target - zero if zero is not None and target is not None else None
        cpus = len(os.sched_getaffinity(0))
        for size, o in opened.get(name, {}).items():
            # What the machine could answer at this size: the CPUs other people's work left
            # it during the run, over the CPU of a call, the load generator's included (it
            # shares them); the open loop's ok answers against that, or the offered rate
            # when lower. A collapse is far below 1.
            total = rows.get(size, {}).get("total_cpu_ms")
            free = max(cpus - (o.get("background_cores") or 0.0), 0.5)
            o["capacity_per_s"] = round(free * 1000 / total, 1) if total else None
            served = min(plan["rate"], o["capacity_per_s"]) if o["capacity_per_s"] else None
            o["ok_vs_capacity"] = round(o["ok_per_s"] / served, 3) if served and o["ok_per_s"] is not None else None
        by_driver[name] = {
            "sizes": rows,
            "fit": line,
            "difference_100k_ms": difference,
            "open_loop": opened.get(name, {}),
        }
    return {
        "plan": plan,
        "sizes": sizes,
        "state_json_bytes": state_bytes,
        "drivers": by_driver,
        "cpus": len(os.sched_getaffinity(0)),
    }


def _f(value: Any, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def markdown(result: dict[str, Any], command: str, commit: str) -> str:
    plan, sizes = result["plan"], result["sizes"]
    lines = [
        "## State size: CPU per call against the state's size",
        "",
        f"`{command}` at `{commit}`: the seed's `start_function`, its state padded with 100-byte values; "
        f"{plan['rounds']} rotating rounds of {plan['duration_s']:g} s closed loops of {plan['concurrency']} "
        f"callers per driver and size, medians over rounds; {result['cpus']} CPUs, a shared VM.",
        "",
        "Server CPU per call (ms): `grpc` is the server's whole tree (server, template, children); `pool` is "
        "`Pool.execute` in the bench process (supervisor and load generator) plus the template's tree"
        + (
            f"; `grpc@{plan['baseline']}` is the server of that revision (`--baseline`), in the same rounds"
            if plan.get("baseline")
            else ""
        )
        + ".",
        "",
        "| driver | "
        + " | ".join(f"{size_label(s)} ({result['state_json_bytes'][s]:,} B)" for s in sizes)
        + " | intercept | slope per KiB | R² | 100 KiB − 0 |",
        "|---" * (len(sizes) + 5) + "|",
    ]
    for name, d in result["drivers"].items():
        cells = [_f(d["sizes"].get(s, {}).get("server_cpu_ms")) for s in sizes]
        line = d["fit"] or {}
        lines.append(
            f"| {name} | " + " | ".join(cells) + f" | {_f(line.get('intercept_ms'))} ms | "
            f"{_f(line.get('slope_us_per_kib'), 1)} µs | {_f(line.get('r2'), 4)} | "
            f"{_f(d['difference_100k_ms'])} ms |"
        )
    grpc = result["drivers"].get("grpc", {})
    difference = grpc.get("difference_100k_ms")
    if difference is not None:
        met = "MET" if difference <= TARGET_MS else "MISSED"
        lines += [
            "",
            f"Target: 100 KiB of state costs at most {TARGET_MS:g} ms of CPU more than none, end to end "
            f"over gRPC: **{met}** ({difference:+.2f} ms).",
        ]
    if any(d["open_loop"] for d in result["drivers"].values()):
        lines += [
            "",
            f"Open loop at {plan['rate']:g} calls/s for {plan['open_s']:g} s per driver and size, latency "
            "from the intended send time. Capacity is what the machine could answer at that size (the "
            "CPUs other work left it during the run over the closed loops' CPU per call, the load "
            "generator's included); ok/s against "
            "the lower of it and the offered rate says whether the service still answers what it "
            "can (about 1) or collapses (far below):",
            "",
            "| driver | size | ok/s | capacity/s | ok ÷ min(offered, capacity) | ok p50 | ok p99 | p99, all "
            "answers | verdicts | background cores |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, d in result["drivers"].items():
            for size in sizes:
                o = d["open_loop"].get(size)
                if o is None:
                    continue
                verdicts = ", ".join(f"{k} {v}" for k, v in sorted(o["verdicts"].items()))
                lines.append(
                    f"| {name} | {size_label(size)} | {_f(o['ok_per_s'], 1)} | {_f(o.get('capacity_per_s'), 1)} "
                    f"| {_f(o.get('ok_vs_capacity'))} | {_f(o.get('ok_p50_ms'))} | {_f(o['ok_p99_ms'])} | "
                    f"{_f(o['p99_ms'])} | {verdicts} | {_f(o.get('background_cores'))} |"
                )
    return "\n".join(lines) + "\n"


def write_png(result: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(8, 5))
    for name, d in result["drivers"].items():
        measured = [s for s in result["sizes"] if d["sizes"].get(s, {}).get("server_cpu_ms") is not None]
        if not measured:
            continue
        xs = [s / KIB for s in measured]
        ys = [d["sizes"][s]["server_cpu_ms"] for s in measured]
        points = ax.plot(xs, ys, marker="o", linestyle="none", label=name)
        line = d["fit"]
        if line:
            top = max(xs)
            ax.plot(
                [0, top],
                [line["intercept_ms"], line["intercept_ms"] + line["slope_us_per_kib"] * top / 1000],
                color=points[0].get_color(),
                linewidth=0.8,
                label=f"{name}: {line['intercept_ms']:.2f} ms + {line['slope_us_per_kib']:.1f} µs/KiB, "
                f"R² {line['r2']:.3f}",
            )
    ax.set_xlabel("state size (KiB)")
    ax.set_ylabel("server CPU per call (ms)")
    ax.set_title("CPU per call against the conversation state's size")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main(argv: list[str], out: Path, results: Path) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench state-sweep")
    parser.add_argument("--sizes", default="0,1k,10k,100k,1m")
    parser.add_argument("--drivers", default="grpc,pool")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per closed loop")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rate", type=float, default=200.0, help="the open loops' rate (calls/s)")
    parser.add_argument("--open-s", type=float, default=6.0, help="seconds per open loop; 0 skips them")
    parser.add_argument("--baseline", help="also a grpc server of this revision, in the same rounds")
    parser.add_argument("--results", type=Path, default=results)
    args = parser.parse_args(argv)
    out.mkdir(parents=True, exist_ok=True)
    meta = report.metadata(["python", "-m", "bench", "state-sweep", *argv], False, None)
    result = run(
        out,
        sizes=[parse_size(s) for s in args.sizes.split(",")],
        driver_names=args.drivers.split(","),
        rounds=args.rounds,
        duration_s=args.duration,
        concurrency=args.concurrency,
        rate=args.rate,
        open_s=args.open_s,
        baseline=args.baseline,
    )
    (out / "state-sweep.json").write_text(
        json.dumps({"schema": report.SCHEMA, "meta": meta, "state_sweep": result}, indent=1, default=str) + "\n"
    )
    png = write_png(result, out / "state-sweep.png")
    section = markdown(result, meta["command"], (meta.get("commit") or "?")[:7])
    report.write_section(args.results, SECTION_NAME, section)
    print(section)
    print(
        f"wrote {out / 'state-sweep.json'}, "
        + (f"{out / 'state-sweep.png'}, " if png else "(no PNG: matplotlib missing), ")
        + str(args.results)
    )
    return 0
