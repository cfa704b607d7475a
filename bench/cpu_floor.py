"""python -m bench cpu-floor: a fresh call's CPU over gRPC against the machine's floor (issue 18).

    python -m bench cpu-floor [--rounds 3] [--duration 8] [--concurrency 4] [--floor-n 400]

Target: a fresh call's CPU over gRPC at most 2.0x (fork floor + echo), in a closed loop of
4 callers running the seed's start tool (the ``start_function`` workload), measured in one
run. Each round runs, one after the other:

* ``grpc``: toolpool's server (``worker.cli serve``, shipped defaults, fresh mode). CPU per
  call is everything: the bench process (client), the server, the template and every
  child it reaped. Split by process: client, server, template, children.
* ``echo``: a bare gRPC echo of the same request and response sizes (bench/echo_server.py),
  client and server.
* ``floor``: the fork floor, fixed as the issue defines it so it does not grow with the
  template: a fresh ``python`` that imports the child runtime (``sandbox.child.entry``) and
  nothing else, freezes its heap (``gc.freeze()``), then forks ``--floor-n`` children in a
  row; each writes one byte and exits; the parent reads the byte and reaps it. CPU per cycle
  is the parent's plus its reaped children's (``getrusage``). What the template preloads
  beyond that counts against the ratio, not into the floor.

The ratio is of the medians over rounds. After the rounds, one more closed loop runs on a
server started under ``bench/server_phases.py`` (a sampler of each thread's CPU clock and
stack) for the server's CPU by phase; the sampler perturbs that run a little, so its figures
are shares, not the headline. The child's own phases are ``python -m bench.child_cost``'s.
The template's RSS is read at the end. The previous run's CPU per call, kept in the
section's first line, is shown beside this one's.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from bench import drivers, loadgen, report

SECTION_NAME = "cpu-floor"
TARGET_RATIO = 2.0
WORKLOAD = "start_function"

FLOOR_SCRIPT = r"""
import gc, json, os, resource, sys, time
import sandbox.child.entry  # the child runtime, and nothing else the template preloads
gc.collect()
gc.freeze()
n = int(sys.argv[1])

def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

def cycle():
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(w, b"x")
        os._exit(0)
    os.close(w)
    os.read(r, 1)
    os.close(r)
    os.waitpid(pid, 0)

for _ in range(20):
    cycle()
c0, t0 = cpu(), time.monotonic()
for _ in range(n):
    cycle()
print(json.dumps({"cpu_ms": (cpu() - c0) * 1000 / n, "wall_ms": (time.monotonic() - t0) * 1000 / n,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def fork_floor(n: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", FLOOR_SCRIPT, str(n)],
        cwd=drivers.REPO,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return json.loads(out.stdout)


def _template(driver: drivers.GrpcDriver) -> psutil.Process | None:
    pid = driver.template_pid()
    try:
        return psutil.Process(pid) if pid is not None else None
    except psutil.Error:
        return None


def _process_cpu(driver: drivers.GrpcDriver) -> dict[str, float]:
    """Cumulative CPU seconds: the server itself, the template itself, its reaped children."""
    server = driver._server_process()
    template = _template(driver)
    figures = {"server": 0.0, "template": 0.0, "children": 0.0}
    try:
        if server is not None:
            t = server.cpu_times()
            figures["server"] = t.user + t.system
        if template is not None:
            t = template.cpu_times()
            figures["template"] = t.user + t.system
            figures["children"] = t.children_user + t.children_system
    except psutil.Error:
        pass
    return figures


def _closed(driver: drivers.Driver, concurrency: int, duration_s: float, seed: int) -> dict[str, Any]:
    return loadgen.closed_summary(driver, WORKLOAD, concurrency=concurrency, duration_s=duration_s, seed=seed)


def _grpc_round(driver: drivers.GrpcDriver, concurrency: int, duration_s: float, seed: int) -> dict[str, Any]:
    before = _process_cpu(driver)
    s = _closed(driver, concurrency, duration_s, seed)
    after = _process_cpu(driver)
    n = s["completed"] or 1
    by_process = {
        "client (bench process)": s["cpu_ms_per_call"]["bench_process"],
        **{name: round((after[name] - before[name]) * 1000 / n, 3) for name in after},
    }
    return {
        "cpu_ms_per_call": s["cpu_ms_per_call"]["total"],
        "by_process": by_process,
        "ok_per_s": round(s["verdicts"].get("ok", 0) / s["elapsed_s"], 1),
        "verdicts": s["verdicts"],
        "p50_ms": s["latency_ms"]["p50"],
        "background_cores": s["background"]["others_busy_cores"],
    }


def _phases(out: Path, concurrency: int, duration_s: float) -> dict[str, Any]:
    path = out / "server-phases.json"
    path.unlink(missing_ok=True)
    driver = drivers.GrpcDriver(out, phases_out=path)
    driver.start()
    try:
        time.sleep(1.0)
        s = _closed(driver, concurrency, duration_s, seed=99)
    finally:
        driver.close()
    data = json.loads(path.read_text())
    n = s["completed"] or 1
    data["calls"] = n
    data["per_call_ms"] = {k: round(v * 1000 / n, 3) for k, v in data["phases"].items()}
    c_threads = data["process_s"] - data["python_threads_s"] - (data["sampler_s"] or 0.0)
    data["per_call_ms"]["gRPC C core threads (no Python frame)"] = round(max(c_threads, 0.0) * 1000 / n, 3)
    return data


def run(out: Path, *, rounds: int, duration_s: float, concurrency: int, floor_n: int) -> dict[str, Any]:
    grpc = drivers.GrpcDriver(out)
    echo = drivers.EchoDriver(out)
    grpc.start()
    echo.start()
    results: dict[str, list[Any]] = {"grpc": [], "echo": [], "floor": []}
    template_rss_mb = None
    try:
        time.sleep(1.0)
        for r in range(rounds):
            results["grpc"].append(_grpc_round(grpc, concurrency, duration_s, seed=r))
            time.sleep(0.5)
            e = _closed(echo, concurrency, duration_s, seed=r)
            results["echo"].append(
                {
                    "cpu_ms_per_call": e["cpu_ms_per_call"]["total"],
                    "ok_per_s": round(e["verdicts"].get("ok", 0) / e["elapsed_s"], 1),
                }
            )
            results["floor"].append(fork_floor(floor_n))
        template = _template(grpc)
        if template is not None:
            template_rss_mb = round(template.memory_info().rss / 2**20, 1)
    finally:
        echo.close()
        grpc.close()
    phases = _phases(out, concurrency, duration_s)

    def median(name: str, key: str) -> float:
        return round(statistics.median(r[key] for r in results[name]), 3)

    g, e, f = median("grpc", "cpu_ms_per_call"), median("echo", "cpu_ms_per_call"), median("floor", "cpu_ms")
    by_process = {
        k: round(statistics.median(r["by_process"][k] for r in results["grpc"]), 3)
        for k in results["grpc"][0]["by_process"]
    }
    ratio = round(g / (f + e), 2) if f + e else None
    return {
        "grpc_cpu_ms": g,
        "echo_cpu_ms": e,
        "floor_cpu_ms": f,
        "ratio": ratio,
        "target": TARGET_RATIO,
        "met": ratio is not None and ratio <= TARGET_RATIO,
        "by_process": by_process,
        "template_rss_mb": template_rss_mb,
        "phases": phases,
        "rounds": results,
        "grpc_ok_per_s": median("grpc", "ok_per_s"),
        "concurrency": concurrency,
        "duration_s": duration_s,
    }


def _previous(results: Path) -> dict[str, Any] | None:
    try:
        text = results.read_text()
    except OSError:
        return None
    found = re.search(r"<!-- cpu-floor figures: (\{.*?\}) -->", text)
    return json.loads(found.group(1)) if found else None


def markdown(result: dict[str, Any], previous: dict[str, Any] | None, command: str, commit: str) -> str:
    status = "**met**" if result["met"] else "**MISSED**"
    keep = {"grpc_cpu_ms": result["grpc_cpu_ms"], "commit": commit}
    before = f"{previous['grpc_cpu_ms']} ms at `{previous['commit']}`" if previous else "none recorded"
    lines = [
        f"<!-- cpu-floor figures: {json.dumps(keep)} -->",
        "## CPU per fresh call over gRPC against the fork floor and a bare echo",
        "",
        f"`{command}` at `{commit}`: {len(result['rounds']['grpc'])} rounds of a closed loop of "
        f"{result['concurrency']} callers, {result['duration_s']:g} s each, of the seed's start tool; medians.",
        "",
        "| target | wanted | measured | status |",
        "|---|---|---|---|",
        f"| CPU per call over gRPC vs (fork floor + echo) | <= {TARGET_RATIO} x | {result['ratio']} | {status} |",
        "",
        "| figure | ms of CPU per call |",
        "|---|---|",
        f"| toolpool over gRPC, fresh mode (everything: client, server, template, children) | "
        f"{result['grpc_cpu_ms']} (previous run: {before}) |",
        f"| bare gRPC echo of the same request (client and server) | {result['echo_cpu_ms']} |",
        f"| fork floor (parent with the child runtime imported, heap frozen; child writes a byte) | "
        f"{result['floor_cpu_ms']} |",
        "",
        f"Throughput of the gRPC rounds: {result['grpc_ok_per_s']} ok calls/s. Template RSS: "
        f"{result['template_rss_mb']} MB.",
        "",
        "By process (ms per call, medians):",
        "",
        "| process | ms |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in result["by_process"].items()],
        "",
        f"The server by phase (ms per call; a separate closed loop on a server run under "
        f"bench/server_phases.py, {result['phases']['calls']} calls; the sampler's own "
        f"{result['phases']['sampler_s']} s excluded):",
        "",
        "| phase | ms |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in sorted(result["phases"]["per_call_ms"].items(), key=lambda kv: -kv[1])],
        "",
        "The child's own CPU by phase (fork's return, confinement, warm-up, the call, exit) is "
        "`python -m bench.child_cost`'s table above.",
    ]
    return "\n".join(lines)


def main(argv: list[str], out: Path, results: Path) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench cpu-floor")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--floor-n", type=int, default=400)
    parser.add_argument("--results", type=Path, default=results)
    args = parser.parse_args(argv)
    out.mkdir(parents=True, exist_ok=True)
    meta = report.metadata(["python", "-m", "bench", "cpu-floor", *argv], False, None)
    result = run(out, rounds=args.rounds, duration_s=args.duration, concurrency=args.concurrency, floor_n=args.floor_n)
    (out / "cpu-floor.json").write_text(
        json.dumps({"schema": report.SCHEMA, "meta": meta, "cpu_floor": result}, indent=1, default=str) + "\n"
    )
    section = markdown(result, _previous(args.results), meta["command"], (meta.get("commit") or "?")[:7])
    report.write_section(args.results, SECTION_NAME, section)
    print(section)
    return 0
