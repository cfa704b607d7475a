"""Turns a suite's figures into the JSON document, the PNG and bench/RESULTS.md.

The JSON schema is documented in bench/SCHEMA.md; bump SCHEMA when a key changes meaning.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

SCHEMA = "toolpool-bench/1"
SLOW = ("spawn", "codejail")  # a new interpreter per call: their own rate and concurrency (bench/suite.py)
REPO = Path(__file__).resolve().parents[1]


# -- metadata ---------------------------------------------------------------------------------


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (subprocess.SubprocessError, OSError):
        return None


def machine() -> dict[str, Any]:
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_at_start": load,
    }


def metadata(argv: list[str], quick: bool, plan: Any) -> dict[str, Any]:
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": _git("rev-parse", "HEAD"),
        "tracked_files_modified": bool(status) if status is not None else None,
        "command": " ".join(shlex.quote(a) for a in argv),
        "started_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "quick": quick,
        "plan": plan.__dict__ if plan is not None else None,
    }


# -- comparisons and targets ------------------------------------------------------------------


def _run(doc: dict, run_id: str) -> dict | None:
    return next((r for r in doc["runs"] if r["id"] == run_id), None)


def _lat(run: dict | None, key: str) -> float | None:
    return None if run is None else run["latency_ms"].get(key)


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 3)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else round(a / b, 3)


def toolpool_driver(doc: dict) -> str | None:
    """The figure the targets are judged on: the service when it ran, else the library."""
    names = {r["driver"] for r in doc["runs"]}
    return "grpc" if "grpc" in names else ("pool" if "pool" in names else None)


def comparisons(doc: dict) -> dict[str, Any]:
    plan = doc["meta"]["plan"] or {}
    rate = plan.get("rate", 200.0)
    out: dict[str, Any] = {"open_loop": {}, "saturation": {}}
    for driver in ("pool", "grpc", "pool-reuse", "grpc-reuse"):
        for workload in plan.get("workloads", ()):
            if workload == "mix":
                continue
            run = _run(doc, f"{driver}/{workload}/open@{rate:g}")
            if run is None:
                continue
            floor = _run(doc, f"floor/{workload}/open@{rate:g}")
            echo = _run(doc, f"echo/{workload}/open@{rate:g}")
            out["open_loop"][f"{driver}/{workload}@{rate:g}"] = {
                "p50_ms": _lat(run, "p50"),
                "p99_ms": _lat(run, "p99"),
                "p50_minus_floor_ms": _diff(_lat(run, "p50"), _lat(floor, "p50")),
                "p99_minus_floor_ms": _diff(_lat(run, "p99"), _lat(floor, "p99")),
                "p50_minus_echo_ms": _diff(_lat(run, "p50"), _lat(echo, "p50")),
                "p99_minus_echo_ms": _diff(_lat(run, "p99"), _lat(echo, "p99")),
                "cpu_ms_per_call": run["cpu_ms_per_call"]["total"],
            }
    concurrency = plan.get("concurrency")
    # The baselines that start an interpreter per call run at their own rate and concurrency.
    slow_closed = {d: _run(doc, f"{d}/trivial/closed@{plan.get('spawn_concurrency')}") for d in SLOW}
    slow_open = {d: _run(doc, f"{d}/trivial/open@{plan.get('spawn_rate', 0):g}") for d in SLOW}
    spawn_closed, spawn_open, jail_closed = slow_closed["spawn"], slow_open["spawn"], slow_closed["codejail"]
    echo_closed = _run(doc, f"echo/trivial/closed@{concurrency}")
    for driver in ("floor", "echo", "spawn", "codejail", "pool", "grpc", "pool-reuse", "grpc-reuse"):
        run = slow_closed[driver] if driver in SLOW else _run(doc, f"{driver}/trivial/closed@{concurrency}")
        if run is None:
            continue
        open_run = slow_open[driver] if driver in SLOW else _run(doc, f"{driver}/trivial/open@{rate:g}")
        out["saturation"][driver] = {
            "throughput": run["throughput"],
            "concurrency": run["concurrency"],
            "p50_ms": _lat(run, "p50"),
            "p99_ms": _lat(run, "p99"),
            "cpu_ms_per_call": run["cpu_ms_per_call"]["total"],
            "ratio_to_echo": _ratio(run["throughput"], echo_closed and echo_closed["throughput"]),
            "ratio_to_spawn": _ratio(run["throughput"], spawn_closed and spawn_closed["throughput"]),
            "ratio_to_codejail": _ratio(run["throughput"], jail_closed and jail_closed["throughput"]),
            "spawn_p50_over_this_p50": _ratio(_lat(spawn_open, "p50"), _lat(open_run, "p50")),
            "background_cores": run.get("background", {}).get("others_busy_cores"),
        }
    return out


def _target(name: str, wanted: str, measured: Any, met: bool | None, basis: str) -> dict[str, Any]:
    return {
        "target": name,
        "wanted": wanted,
        "measured": measured,
        "status": "not measured" if met is None else ("met" if met else "MISSED"),
        "basis": basis,
    }


def targets(doc: dict) -> list[dict[str, Any]]:
    tp = toolpool_driver(doc)
    comp = doc["comparisons"]
    plan = doc["meta"]["plan"] or {}
    rate = plan.get("rate", 200.0)
    out = []
    added = comp["open_loop"].get(f"{tp}/trivial@{rate:g}", {})
    p50, p99 = added.get("p50_minus_echo_ms"), added.get("p99_minus_echo_ms")
    basis = f"{tp} vs echo, trivial tool, open-loop {rate:g}/s"
    out.append(
        _target("added latency p50 above transport", "<= 1.5 ms", p50, None if p50 is None else p50 <= 1.5, basis)
    )
    out.append(_target("added latency p99 above transport", "<= 5 ms", p99, None if p99 is None else p99 <= 5.0, basis))
    sat = comp["saturation"].get(tp or "", {})
    thr = sat.get("throughput")
    basis = f"{tp}, trivial tool, closed-loop {plan.get('concurrency')} callers"
    out.append(_target("saturation throughput", ">= 800 calls/s", thr, None if thr is None else thr >= 800, basis))
    r = sat.get("ratio_to_echo")
    out.append(_target("saturation vs transport", ">= 0.4 x echo", r, None if r is None else r >= 0.4, basis))
    r = sat.get("ratio_to_spawn")
    out.append(_target("throughput vs spawn-per-call", ">= 10 x spawn", r, None if r is None else r >= 10, basis))
    r = sat.get("ratio_to_codejail")
    skipped = (doc.get("skipped") or {}).get("codejail")
    out.append(
        _target(
            "throughput vs edX codejail",
            ">= 10 x codejail",
            r,
            None if r is None else r >= 10,
            f"codejail not run: {skipped}"
            if skipped
            else f"{basis} vs codejail's {plan.get('spawn_concurrency')} callers (`python -m bench codejail` "
            "compares start_function at equal concurrency)",
        )
    )
    for driver, o in doc["overshoot"].items():
        v = o["overshoot_ms"]["p99"]
        out.append(
            _target(
                f"kill overshoot p99 ({driver})",
                "< 5 ms, other core busy",
                v,
                None if v is None else v < 5.0,
                f"{o['calls']} sequential spin calls, {o['deadline_ms']} ms deadline, {o['burners']} CPU burner",
            )
        )
    for driver, nn in doc["noisy_neighbour"].items():
        v = nn["p99_ratio"]
        out.append(
            _target(
                f"noisy neighbour B p99 ratio ({driver})",
                "<= 1.5 x quiet",
                v,
                None if v is None else v <= 1.5,
                f"B start_function {nn['b_rate']:g}/s open-loop; A {nn['a_concurrency']} callers of spin/hog/slow",
            )
        )
    for driver, mem in doc["memory"].items():
        if driver.endswith("reuse") or not mem.get("uss_mb"):
            continue
        v = mem["uss_mb"]["max"]
        out.append(
            _target(
                f"USS per ready child ({driver})",
                "<= 3 MB",
                v,
                v <= 3.0,
                f"max over {mem['ready_children']} ready children (median {mem['uss_mb']['median']} MB)",
            )
        )
    return out


# -- outputs ------------------------------------------------------------------------------------


def build(meta: dict, figures: dict) -> dict[str, Any]:
    doc = {"schema": SCHEMA, "meta": meta, **figures}
    doc["meta"]["duration_s"] = figures.get("duration_s")
    doc["comparisons"] = comparisons(doc)
    doc["targets"] = targets(doc)
    return doc


def write_json(doc: dict, path: Path) -> None:
    path.write_text(json.dumps(doc, indent=1, default=str) + "\n")


def write_png(doc: dict, path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    plan = doc["meta"]["plan"] or {}
    rate = plan.get("rate", 200.0)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.2))
    for run in doc["runs"]:
        if (
            run["workload"] == "trivial"
            and run["mode"] == "open"
            and run.get("cdf")
            and (run["offered_rate"] == rate or run["driver"] in SLOW)
        ):
            xs = [max(v, 1e-3) for v, _ in run["cdf"]]
            ys = [f for _, f in run["cdf"]]
            ax1.step(xs, ys, where="post", label=f"{run['driver']} ({run['offered_rate']:g}/s)")
    ax1.set_xscale("log")
    ax1.set_xlabel("latency from intended send (ms, log)")
    ax1.set_ylabel("fraction of calls")
    ax1.set_title("Latency CDF, trivial tool, open-loop")
    ax1.grid(True, which="both", alpha=0.3)
    ax1.legend(fontsize=8)
    top = 0.0
    for name, step in doc["steps"].items():
        xs = [s["rate"] for s in step["steps"]]
        ys = [s["throughput"] or 0 for s in step["steps"]]
        top = max([top, *xs])
        ax2.plot(xs, ys, marker="o", label=f"{name} (knee {step['knee_rate']})")
    for name, sat in doc["comparisons"]["saturation"].items():
        if name in doc["steps"] or name.endswith("reuse"):
            continue
        ax2.axhline(sat["throughput"], linestyle=":", alpha=0.6, label=f"{name} closed-loop max")
    if top:
        ax2.plot([0, top], [0, top], color="grey", linestyle="--", linewidth=0.8, label="offered = achieved")
    ax2.set_xlabel("offered rate (calls/s)")
    ax2.set_ylabel("achieved throughput (calls/s)")
    ax2.set_title(f"Throughput vs offered rate (step, p99 bound {plan.get('step_bound_ms')} ms)")
    ax2.grid(True, alpha=0.3)
    ax2.legend(fontsize=8)
    fig.suptitle(
        f"toolpool bench {doc['meta']['started_at']}, commit {str(doc['meta']['commit'])[:12]}, "
        f"{doc['meta']['machine']['nproc']} CPUs",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"
    return str(v)


def results_markdown(doc: dict, json_name: str, png_name: str | None) -> str:
    meta = doc["meta"]
    m = meta["machine"]
    lines = [
        "# Bench results (latest run)",
        "",
        "Generated by `python -m bench`; do not edit by hand (the next run overwrites it).",
        "",
        f"- command: `{meta['command']}`",
        f"- commit: `{meta['commit']}`"
        + (" (with local changes to tracked files)" if meta.get("tracked_files_modified") else ""),
        f"- date: {meta['started_at']}, duration {meta.get('duration_s')} s"
        + (" (QUICK mode)" if meta["quick"] else ""),
        f"- machine: {m['nproc']} CPUs, {m['cpu_model']}, kernel {m['kernel']}, Python {m['python']}, "
        f"load average at start {m['loadavg_at_start']}",
        f"- figures: `{json_name}`" + (f", `{png_name}`" if png_name else ""),
        "",
        "The load generator shares the machine's CPUs with the service, as the targets assume. The machine "
        "is a shared VM: compare figures within this run, not across runs.",
        "",
        "## Targets",
        "",
        "| target | wanted | measured | status | basis |",
        "|---|---|---|---|---|",
    ]
    for t in doc["targets"]:
        lines.append(f"| {t['target']} | {t['wanted']} | {_fmt(t['measured'])} | **{t['status']}** | {t['basis']} |")
    lines += [
        "",
        "## Open-loop latency (ms, from the intended send time)",
        "",
        "| run | rounds | calls | throughput | p50 | p90 | p99 | p99.9 | max | verdicts | deadline misses | CPU ms/call | background cores (steal) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["runs"]:
        if r["mode"] != "open":
            continue
        lat = r["latency_ms"]
        verdicts = ", ".join(f"{k} {v}" for k, v in sorted(r["verdicts"].items()))
        bg = r.get("background", {})
        lines.append(
            f"| {r['id']} | {r.get('rounds', 1)} | {r['completed']} | {_fmt(r['throughput'])} | "
            f"{_fmt(lat['p50'])} | {_fmt(lat['p90'])} | {_fmt(lat['p99'])} | {_fmt(lat['p999'])} | "
            f"{_fmt(lat['max'])} | {verdicts} | {r['deadline_misses']} | "
            f"{_fmt(r['cpu_ms_per_call']['total'])} | {_fmt(bg.get('others_busy_cores'))} "
            f"({_fmt(bg.get('steal_cores'))}) |"
        )
    lines += [
        "",
        "## Closed-loop saturation (trivial tool)",
        "",
        "| driver | callers | calls/s | p50 | p99 | CPU ms/call | × echo | × spawn | × codejail | background cores |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in doc["comparisons"]["saturation"].items():
        lines.append(
            f"| {name} | {s['concurrency']} | {_fmt(s['throughput'])} | {_fmt(s['p50_ms'])} | "
            f"{_fmt(s['p99_ms'])} | {_fmt(s['cpu_ms_per_call'])} | {_fmt(s['ratio_to_echo'])} | "
            f"{_fmt(s['ratio_to_spawn'])} | {_fmt(s.get('ratio_to_codejail'))} | "
            f"{_fmt(s.get('background_cores'))} |"
        )
    lines += [
        "",
        f"## Overhead at {meta['plan']['rate']:g} calls/s (ms)",
        "",
        "| driver/workload | p50 | p99 | p50 − floor | p99 − floor | p50 − echo | p99 − echo | CPU ms/call |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, c in doc["comparisons"]["open_loop"].items():
        lines.append(
            f"| {name} | {_fmt(c['p50_ms'])} | {_fmt(c['p99_ms'])} | {_fmt(c['p50_minus_floor_ms'])} | "
            f"{_fmt(c['p99_minus_floor_ms'])} | {_fmt(c['p50_minus_echo_ms'])} | "
            f"{_fmt(c['p99_minus_echo_ms'])} | {_fmt(c['cpu_ms_per_call'])} |"
        )
    if doc["steps"]:
        lines += [
            "",
            "## Step (trivial tool; knee = highest rate with p99 ≤ bound, ≥ 95% ok, ≥ 90% of offer)",
            "",
            "| driver | knee (calls/s) | steps: offered → achieved (p99 ms) |",
            "|---|---|---|",
        ]
        for name, st in doc["steps"].items():
            steps = "; ".join(
                f"{s['rate']:g} → {_fmt(s['throughput'])} ({_fmt(s['latency_ms']['p99'])})" for s in st["steps"]
            )
            lines.append(f"| {name} | {_fmt(st['knee_rate'])} | {steps} |")
    if doc["overshoot"]:
        lines += [
            "",
            "## Deadline kill overshoot (ms past a 100 ms deadline, one CPU burner running)",
            "",
            "| driver | timeouts | p50 | p90 | p99 | max |",
            "|---|---|---|---|---|---|",
        ]
        for name, o in doc["overshoot"].items():
            s = o["overshoot_ms"]
            lines.append(
                f"| {name} | {s['n']} | {_fmt(s['p50'])} | {_fmt(s['p90'])} | {_fmt(s['p99'])} | {_fmt(s['max'])} |"
            )
    if doc["noisy_neighbour"]:
        lines += [
            "",
            "## Noisy neighbour (tenant B's start_function, ms)",
            "",
            "| driver | B quiet p50 / p99 | B with A flooding p50 / p99 | p99 ratio | B verdicts with A | A's verdicts |",
            "|---|---|---|---|---|---|",
        ]
        for name, nn in doc["noisy_neighbour"].items():
            q, n = nn["b_quiet_latency_ms"], nn["b_noisy_latency_ms"]
            a = nn.get("a_flood") or {}
            lines.append(
                f"| {name} | {_fmt(q['p50'])} / {_fmt(q['p99'])} | {_fmt(n['p50'])} / {_fmt(n['p99'])} | "
                f"{_fmt(nn['p99_ratio'])} | {nn['b_noisy_verdicts']} | {a.get('verdicts')} |"
            )
    if doc["memory"]:
        with_template = any(m.get("template_mb") for m in doc["memory"].values())
        lines += [
            "",
            "## Memory per ready child (MB)",
            "",
            "| driver | children | USS median / max | PSS median / max |"
            + (" template USS / RSS |" if with_template else ""),
            "|---|---|---|---|" + ("---|" if with_template else ""),
        ]
        for name, mem in doc["memory"].items():
            if not mem.get("uss_mb"):
                continue
            t = mem.get("template_mb") or {}
            lines.append(
                f"| {name} | {mem['ready_children']} | {mem['uss_mb']['median']} / {mem['uss_mb']['max']} | "
                f"{mem['pss_mb']['median']} / {mem['pss_mb']['max']} |"
                + (f" {_fmt(t.get('uss'))} / {_fmt(t.get('rss'))} |" if with_template else "")
            )
    procs = doc.get("procs")
    if procs:
        lines += [
            "",
            "## Process creation alternatives (trivial call in a new process)",
            "",
            "| method | first answer p50 / p99 (ms) | full cycle p50 (ms) | cycles/s, 1 caller | cycles/s, 2 callers |",
            "|---|---|---|---|---|",
        ]
        for name, c in procs["creation"].items():
            lines.append(
                f"| {name} | {_fmt(c['first_answer_ms']['p50'])} / {_fmt(c['first_answer_ms']['p99'])} | "
                f"{_fmt(c['cycle_ms']['p50'])} | {_fmt(c['cycles_per_s_1'])} | {_fmt(c.get('cycles_per_s_2'))} |"
            )
        lines += [
            "",
            "## IPC round trip with a long-lived child (µs, p50)",
            "",
            "| channel | small, same CPU | small, across CPUs | 10 KB dict, same CPU | 10 KB dict, across CPUs |",
            "|---|---|---|---|---|",
        ]
        for name, v in procs["ipc"].items():
            cells = [
                v[size][where]["p50_us"] for size in ("small", "10KB dict") for where in ("same CPU", "across CPUs")
            ]
            lines.append(f"| {name} | " + " | ".join(_fmt(c) for c in cells) + " |")
    cc = doc.get("child_cost")
    if cc:
        phases = [(key, key.split(" (")[0].replace("_child", "")) for key in CHILD_PHASES]
        lines += [
            "",
            "## CPU of one fresh child, by phase (µs / minor faults, median; bench/child_cost.py)",
            "",
            "| variant | fork() in template | child total (incl. exit) | minor faults | "
            + " | ".join(label for _, label in phases)
            + " |",
            "|---|---|---|---|" + "---|" * len(phases),
        ]
        for name, v in cc.items():
            if not isinstance(v, dict) or "phases" not in v:
                continue
            cells = [
                f"{_fmt(v['phases'][key]['cpu_us'])} / {_fmt(v['phases'][key]['minor_faults'])}"
                if key in v["phases"]
                else "–"
                for key, _ in phases
            ]
            lines.append(
                f"| {name} | {_fmt(v['fork_call_cpu_us_in_parent'])} | {_fmt(v['child_total_cpu_us'])} | "
                f"{_fmt(v['child_minor_faults'])} | " + " | ".join(cells) + " |"
            )
    if doc["errors"]:
        lines += ["", "## Errors", ""] + [f"- {k}: {v}" for k, v in doc["errors"].items()]
    if doc.get("skipped"):
        lines += ["", "## Skipped", ""] + [f"- {k}: {v}" for k, v in doc["skipped"].items()]
    lines += ["", "## Notes", "", NOTES]
    return "\n".join(lines) + "\n"


# bench/child_cost.py's phases, in the order a child runs them.
CHILD_PHASES = (
    "after fork (at-fork hooks)",
    "confine_child",
    "warm-up call",
    "decode request",
    "call rlimits",
    "run_request",
    "encode reply",
)

NOTES = """\
- `floor` runs `sandbox.child.entry.run_request` in the bench process; `echo` is a bare gRPC server
  (bench/echo_server.py) sending toolpool-sized messages; `spawn` is a fresh `python -I` per call
  with rlimits; `codejail` is edX codejail 4.1.0's `safe_exec` per call as its README sets it up
  (sudo to a sandbox user, rlimits; no AppArmor on this kernel; bench/codejail_driver.py); `pool`
  is `Pool.execute` in the bench process; `grpc` is `python -m worker.cli serve` started by the bench
  (shipped defaults, bench token). `*-reuse` is the same with `pool.mode = reuse`.
- Open-loop latency counts from each call's intended (Poisson) send time, so queueing caused by a
  slow service is included, not hidden (coordinated omission).
- CPU ms/call adds the bench process (load generator, and for floor/pool the supervisor too) and the
  driver's own processes (server, template, children already reaped); children still alive at the
  end of a run are counted in the next one.
- Deadline misses: calls whose latency from the intended send exceeded their own budget.
- The headline runs (trivial and start_function open-loop, trivial closed-loop) are split into
  interleaved rounds that rotate through the drivers, so background load hits every driver alike;
  the other runs go one driver at a time. "Background cores" is the machine's busy CPU during a
  run minus the run's own (other people's work on the shared VM); "steal" is the hypervisor's.
"""


# -- sections of RESULTS.md that other benches own -------------------------------------
# The suite rewrites RESULTS.md; a bench that reports on its own (python -m bench store,
# python -m bench versions) writes its figures between these markers, and the suite keeps
# every such section as it is.


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- bench section: {name} -->", f"<!-- /bench section: {name} -->"


def write_section(results: Path, name: str, body: str) -> None:
    """Put ``body`` into RESULTS.md as section ``name``, in place of the last one or at the end."""
    start, end = _markers(name)
    section = f"{start}\n{body.rstrip()}\n{end}\n"
    text = results.read_text() if results.exists() else ""
    if start in text and end in text:
        head, _, rest = text.partition(start)
        _, _, tail = rest.partition(end + "\n")
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section
    results.write_text(text)


def kept_sections(results: Path) -> str:
    """Every bench-owned section of an existing RESULTS.md ("" if none), for the suite to keep."""
    text = results.read_text() if results.exists() else ""
    kept = []
    for match in re.finditer(r"<!-- bench section: (?P<name>[^>]+?) -->", text):
        _start, end = _markers(match["name"])
        body = text[match.start() :].partition(end)[0]
        if end in text[match.start() :]:
            kept.append(body + end + "\n")
    return "\n".join(kept)
