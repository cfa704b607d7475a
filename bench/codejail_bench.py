"""python -m bench codejail: toolpool over gRPC against edX codejail, side by side (issue 18).

    python -m bench codejail [--rounds 5] [--duration 10] [--concurrency 4] [--quick]

Target: closed-loop fresh-mode throughput over gRPC at least 10x edX codejail's, measured in
the same run. Both drivers start first and stay up: toolpool's ``grpc`` driver (``worker.cli
serve`` with the shipped defaults, ``pool.mode = fresh``) and the ``codejail`` driver
(bench/codejail_driver.py: edx-codejail 4.1.0's ``safe_exec`` as the sandbox user through
``sudo``, with rlimits, one worker process per caller). Then ``--rounds`` rounds alternate
which goes first, each a closed loop of ``--concurrency`` callers for ``--duration`` seconds of
the ``start_function`` workload (the seed 002 tool with a London call's conversation), with a
short idle between runs so that one driver's refill does not fall into the other's run.

Reported per driver, as the median over rounds: ``ok`` calls per second, CPU per call (the
bench process plus the driver's own processes: server, template and children; codejail's
workers and everything they reaped: sudo, the jailed python, find), p50 and p99. The ratio
is of the medians; each round's own ratio and the background load (other people's work on
the shared machine, in cores) are shown beside it. Figures go to OUT/codejail.json and, as a
section of their own, to bench/RESULTS.md (``--results``; in ``--quick`` mode OUT/RESULTS.md).

Exit status: 0 when measured (met or not), 2 when codejail's setup is missing here (one
line per missing piece, then the fix: ``bench/codejail_setup.sh``).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench import codejail_driver, drivers, loadgen, report

SECTION_NAME = "codejail"
TARGET_RATIO = 10.0
WORKLOAD = "start_function"


def _round(
    driver: drivers.Driver, concurrency: int, duration_s: float, seed: int, progress: loadgen.Progress
) -> dict[str, Any]:
    s = loadgen.closed_summary(
        driver, WORKLOAD, concurrency=concurrency, duration_s=duration_s, seed=seed, progress=progress
    )
    ok = s["verdicts"].get("ok", 0)
    return {
        "calls": s["completed"],
        "ok": ok,
        "verdicts": s["verdicts"],
        "ok_per_s": round(ok / s["elapsed_s"], 2) if s["elapsed_s"] else None,
        "cpu_ms_per_call": s["cpu_ms_per_call"],
        "p50_ms": s["latency_ms"]["p50"],
        "p99_ms": s["latency_ms"]["p99"],
        "others_busy_cores": s["background"]["others_busy_cores"],
        "steal_cores": s["background"]["steal_cores"],
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


def _median(rounds: list[dict[str, Any]], pick: Any) -> float | None:
    values = [v for v in (pick(r) for r in rounds) if v is not None]
    return round(statistics.median(values), 3) if values else None


def run(
    out: Path,
    *,
    rounds: int,
    duration_s: float,
    concurrency: int,
    warmup_s: float = 2.0,
    settle_s: float = 1.0,
    progress: loadgen.Progress | None = None,
) -> dict[str, Any]:
    from bench import workloads

    progress = progress or loadgen.Progress(False)
    out.mkdir(parents=True, exist_ok=True)
    grpc = drivers.GrpcDriver(out, mode="fresh")
    jail = codejail_driver.CodejailDriver(out, workers=concurrency)
    started: list[drivers.Driver] = []
    per_round: dict[str, list[dict[str, Any]]] = {"grpc": [], "codejail": []}
    loadavg_start = os.getloadavg()
    try:
        for driver in (grpc, jail):
            progress.done(f"== {driver.name}: starting")
            driver.start()
            started.append(driver)
            loadgen.closed_loop(
                driver,
                workloads.workload(WORKLOAD),
                concurrency=concurrency,
                duration_s=warmup_s,
                run_id=f"{driver.name}/warm-up",
                workload=WORKLOAD,
                progress=loadgen.Progress(False),
            )
        for r in range(rounds):
            for driver in (grpc, jail) if r % 2 == 0 else (jail, grpc):
                time.sleep(settle_s)
                per_round[driver.name].append(_round(driver, concurrency, duration_s, 1000 * r + 1, progress))
        described = {d.name: d.describe() for d in started}
    finally:
        for driver in started:
            driver.close()
    medians = {
        name: {
            "ok_per_s": _median(rs, lambda r: r["ok_per_s"]),
            "cpu_ms_per_call": _median(rs, lambda r: r["cpu_ms_per_call"]["total"]),
            "p50_ms": _median(rs, lambda r: r["p50_ms"]),
            "p99_ms": _median(rs, lambda r: r["p99_ms"]),
        }
        for name, rs in per_round.items()
    }
    g, c = medians["grpc"], medians["codejail"]
    round_ratios = [
        round(a["ok_per_s"] / b["ok_per_s"], 2)
        for a, b in zip(per_round["grpc"], per_round["codejail"], strict=True)
        if a["ok_per_s"] and b["ok_per_s"]
    ]
    ratio = round(g["ok_per_s"] / c["ok_per_s"], 2) if g["ok_per_s"] and c["ok_per_s"] else None
    return {
        "settings": {
            "rounds": rounds,
            "duration_s": duration_s,
            "concurrency": concurrency,
            "workload": WORKLOAD,
            "warmup_s": warmup_s,
            "settle_s": settle_s,
        },
        "rounds": per_round,
        "medians": medians,
        "ratio": ratio,
        "round_ratios": round_ratios,
        "cpu_ratio": round(c["cpu_ms_per_call"] / g["cpu_ms_per_call"], 2)
        if g["cpu_ms_per_call"] and c["cpu_ms_per_call"]
        else None,
        "target": {"wanted": f">= {TARGET_RATIO:g}x codejail", "met": ratio is not None and ratio >= TARGET_RATIO},
        "background_cores_median": _median(per_round["grpc"] + per_round["codejail"], lambda r: r["others_busy_cores"]),
        "loadavg_start": [round(x, 2) for x in loadavg_start],
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "drivers": described,
    }


def _cell(value: Any, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def render(result: dict[str, Any], command: str, commit: str, machine: dict[str, Any]) -> str:
    s, m = result["settings"], result["medians"]
    jail = result["drivers"].get("codejail", {})
    check = jail.get("jail", {})
    ratio = result["ratio"]
    lines = [
        "## toolpool vs edX codejail: closed-loop throughput, side by side",
        "",
        f"`{command}` at {commit}: {s['rounds']} rounds alternating which driver goes first, each a closed "
        f"loop of {s['concurrency']} callers for {s['duration_s']:g} s of `{s['workload']}` (the seed 002 tool, "
        f"a London call); medians over rounds. Machine: {machine['nproc']} CPUs, {machine['cpu_model']}, "
        f"load average {result['loadavg_start'][0]:.2f} at the start and {result['loadavg_end'][0]:.2f} at the end; "
        f"other people's work took {_cell(result['background_cores_median'], 2)} cores (median over runs).",
        "",
        "| driver | ok calls/s | CPU ms/call | p50 ms | p99 ms | per round: ok calls/s (background cores) |",
        "|---|---|---|---|---|---|",
    ]
    names = {
        "grpc": "toolpool, gRPC, fresh mode (shipped defaults)",
        "codejail": "edX codejail 4.1.0, `safe_exec`, sudo + rlimits",
    }
    for name, label in names.items():
        rounds = ", ".join(
            f"{_cell(r['ok_per_s'])} ({_cell(r['others_busy_cores'], 2)})" for r in result["rounds"][name]
        )
        lines.append(
            f"| {label} | {_cell(m[name]['ok_per_s'])} | {_cell(m[name]['cpu_ms_per_call'], 2)} | "
            f"{_cell(m[name]['p50_ms'], 2)} | {_cell(m[name]['p99_ms'], 2)} | {rounds} |"
        )
    verdicts = {name: {} for name in names}
    for name in names:
        for r in result["rounds"][name]:
            for k, v in r["verdicts"].items():
                verdicts[name][k] = verdicts[name].get(k, 0) + v
    status = "MET" if result["target"]["met"] else "MISSED"
    lines += [
        "",
        f"Target: toolpool's throughput ≥ {TARGET_RATIO:g}× codejail's: **{status}** ({_cell(ratio, 2)}×, the ratio "
        f"of the medians; per round {', '.join(f'{x:g}' for x in result['round_ratios'])}). codejail spends "
        f"{_cell(result['cpu_ratio'], 2)}× toolpool's CPU per call. Verdicts: toolpool {verdicts['grpc']}, "
        f"codejail {verdicts['codejail']}.",
        "",
        f"codejail as set up by `bench/codejail_setup.sh` (its README's steps): a caller environment with "
        f"edx-codejail 4.1.0, the sandbox environment `{jail.get('sandbox_python')}` (Python {check.get('python')}, "
        f"`venv --copies`), user `{jail.get('user')}` (uid {check.get('uid')}) through sudo with the README's "
        f"sudoers rules, pam_limits off; rlimits checked inside the jail at start: "
        + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in (check.get("rlimits") or {}).items())
        + f"; /etc/shadow: {check.get('shadow')}. AppArmor: {jail.get('apparmor')} (codejail's README calls it the "
        "isolation layer; without it codejail is cheaper per call than in a real deployment). Per call: a temp "
        "directory, `sudo -u sandbox python -E -B` with setsid and rlimits in a preexec_fn, JSON in and out, a "
        "watchdog thread, then `sudo -u sandbox find ... rm` to clean up; one worker process per caller, each "
        "serving one call at a time.",
    ]
    return "\n".join(lines) + "\n"


def main(args: Any, argv: list[str], results_default: Path) -> int:
    problems = codejail_driver.setup_problems()
    if problems:
        for problem in problems:
            print(f"python -m bench codejail: {problem}", file=sys.stderr)
        print(f"hint: {codejail_driver.SETUP_HINT}", file=sys.stderr)
        return 2
    if args.quick:
        rounds, duration_s, warmup_s, settle_s = 2, 0.5, 0.2, 0.0
    else:
        rounds, duration_s, warmup_s, settle_s = args.rounds, args.duration, 2.0, 1.0
    meta = report.metadata(argv, args.quick, None)
    result = run(
        args.out,
        rounds=rounds,
        duration_s=duration_s,
        concurrency=args.concurrency,
        warmup_s=warmup_s,
        settle_s=settle_s,
        progress=loadgen.Progress(not args.no_progress),
    )
    path = args.out / "codejail.json"
    path.write_text(
        json.dumps({"schema": report.SCHEMA, "meta": meta, "codejail": result}, indent=1, default=str) + "\n"
    )
    results = args.results or (args.out / "RESULTS.md" if args.quick else results_default)
    section = render(result, " ".join(argv), (meta.get("commit") or "?")[:7], meta["machine"])
    report.write_section(results, SECTION_NAME, section)
    print(section)
    print(f"wrote {path} and {results}")
    return 0
