"""python -m bench hostile-compile: what one tenant's compile bombs cost the others (issue 16).

    python -m bench hostile-compile [--rounds 3] [--duration 8] [--rate 20] [--flood 4]

Two figures, each from one run, so that the shared machine's noise falls on both sides:

1. **Another tenant's greeting during a compile-bomb flood.** One server (shipped
   defaults) is driven by tenant B's ``start_function`` at a Poisson ``--rate`` per second,
   in rounds that alternate "alone" and "during a flood": ``--flood`` threads of tenant A
   deploying compile bombs back to back (tests/uploads/bombs.py: exponential code
   generation, each stopped at the compile's memory limit), refusals and all. Reported:
   B's p50/p99 in both, their ratio (target p99 ≤ 1.5×), the bombs' verdicts, and the
   server's RSS growth (target < 64 MiB).
2. **Deploying an ordinary 5 KB bundle.** The same bundle compiled in this process
   (``compile_bundle``, the compiler's own cache cleared: what the server did before the
   compile was confined) and through the confined compile (``ConfinedCompiler``: a
   template child, limits, the answer checked), alternating, ``--compiles`` each per
   round. Reported: p50/p99 of both and the ratio of p50 (target ≤ 1.5×); and the
   Deploy RPC end to end on the server, for reference.

Figures go to OUT/hostile.json and, as a section of their own, to bench/RESULTS.md.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from bench import drivers, loadgen, report, stats, trees, workloads

SECTION_NAME = "hostile-compile"
BASELINE = "f48845f"
"""The last revision whose server compiled tenants' code in its own process."""
BOMB_NAMES = ("nested_finally_19", "nested_finally_24", "nested_unary", "code_size_one_file")


def five_kb_bundle() -> dict[str, str]:
    """An ordinary ~5 KB tool file: helpers, a class, f-strings, a greeting."""
    blocks = [
        "import datetime\nimport re\n\n\nclass Booking:\n    def __init__(self, name, party):\n"
        "        self.name = name\n        self.party = party\n\n    def line(self):\n"
        "        return f'{self.name} for {self.party}'\n"
    ]
    n = 0
    while sum(map(len, blocks)) < 5000:
        blocks.append(f"""

def _normalise_{n}(text):
    text = re.sub(r"\\s+", " ", text or "").strip()
    return text[:80].title()


def answer_{n}(conv, name="guest", party=2):
    booking = Booking(_normalise_{n}(name), int(party))
    conv.state.last = booking.line()
    day = datetime.date(2026, 1, {n % 27 + 1}).strftime("%A")
    return {{"utterance": f"Booked {{booking.line()}} on {{day}}."}}
""")
        n += 1
    blocks.append("\n\ndef start_function(conv):\n    return {'utterance': 'Hello, how can I help?'}\n")
    return {"booking.py": "".join(blocks)}


class _Flood:
    """``width`` threads deploying compile bombs as tenant A until stopped."""

    def __init__(self, driver: drivers.GrpcDriver, width: int):
        from tests.uploads.bombs import BOMBS
        from worker._proto.toolpool.v1 import toolpool_pb2 as pb

        self._requests = [
            pb.DeployRequest(
                tenant=workloads.TENANT_A, files=[pb.SourceFile(name=n, source=s) for n, s in BOMBS[name][0].items()]
            )
            for name in BOMB_NAMES
        ]
        self._driver = driver
        self._stop = threading.Event()
        self.verdicts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(width)]

    def __enter__(self) -> _Flood:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _run(self, index: int) -> None:
        import grpc

        n = index
        while not self._stop.is_set():
            request = self._requests[n % len(self._requests)]
            n += 1
            try:
                response = self._driver.stub.Deploy(request, metadata=self._driver.metadata, timeout=30)
                verdict = _bomb_verdict(response)
            except grpc.RpcError as error:
                verdict = f"rpc:{error.code().name}"
                time.sleep(int(dict(error.trailing_metadata() or ()).get("retry-after-ms", "10")) / 1000)
            with self._lock:
                self.verdicts[verdict] = self.verdicts.get(verdict, 0) + 1


def _bomb_verdict(response: Any) -> str:
    if response.HasField("deployed"):
        return "deployed"
    message = response.compile_errors.errors[0].message
    for words in ("needed more than", "larger than", "took more than", "of CPU", "nested too deeply"):
        if words in message:
            return f"compile error: {words}"
    return "compile error: other"


def measure_latency(out: Path, rounds: int, duration_s: float, rate: float, width: int) -> dict[str, Any]:
    driver = drivers.GrpcDriver(out)
    driver.start()
    server = psutil.Process(driver.server_proc.pid)
    next_call = workloads.workload("start_function_b")
    samples: dict[str, list[loadgen.Run]] = {"alone": [], "flood": []}
    flood_verdicts: dict[str, int] = {}
    try:
        loadgen.open_loop(driver, next_call, rate=rate, duration_s=2.0, run_id="warm", workload="start_function_b")
        rss_before = server.memory_info().rss
        rss_peak = rss_before
        for index in range(rounds):
            for phase in ("alone", "flood"):
                run_id = f"hostile-compile/{phase}/{index}"
                if phase == "alone":
                    run = loadgen.open_loop(
                        driver,
                        next_call,
                        rate=rate,
                        duration_s=duration_s,
                        run_id=run_id,
                        workload="start_function_b",
                        seed=index,
                    )
                else:
                    with _Flood(driver, width) as flood:
                        run = loadgen.open_loop(
                            driver,
                            next_call,
                            rate=rate,
                            duration_s=duration_s,
                            run_id=run_id,
                            workload="start_function_b",
                            seed=index,
                        )
                    for verdict, count in flood.verdicts.items():
                        flood_verdicts[verdict] = flood_verdicts.get(verdict, 0) + count
                rss_peak = max(rss_peak, server.memory_info().rss)
                samples[phase].append(run)
    finally:
        driver.close()
    merged = {phase: loadgen.merge(runs).summary(cdf=False) for phase, runs in samples.items()}
    latency = {phase: merged[phase]["latency_ms"] for phase in merged}
    return {
        "rate_per_s": rate,
        "rounds": rounds,
        "duration_s": duration_s,
        "flood_threads": width,
        "latency_ms": latency,
        "verdicts": {phase: merged[phase]["verdicts"] for phase in merged},
        "p99_ratio": _ratio(latency["flood"]["p99"], latency["alone"]["p99"]),
        "p50_ratio": _ratio(latency["flood"]["p50"], latency["alone"]["p50"]),
        "bombs": flood_verdicts,
        "server_rss_growth_mib": (rss_peak - rss_before) / 2**20,
    }


def measure_deploy(out: Path, rounds: int, compiles: int, baseline: str) -> dict[str, Any]:
    """Deploy RPCs of the 5 KB bundle on this tree's server (confined compile) and on the
    baseline revision's (the compile in the server process), alternating; and the compile
    alone both ways in this tree, for where the difference comes from."""
    from sandbox.compile.compiler import compile_bundle, compile_cache_clear
    from sandbox.supervisor.confined_compile import ConfinedCompiler
    from sandbox.supervisor.pool import Pool, PoolConfig
    from worker._proto.toolpool.v1 import toolpool_pb2 as pb

    files = five_kb_bundle()
    times: dict[str, list[float]] = {"deploy_baseline": [], "deploy_confined": [], "in_process": [], "confined": []}
    revision = trees.short_revision(baseline)
    with tempfile.TemporaryDirectory(prefix="toolpool-hostile-") as tmp:
        tree = trees.baseline_tree(revision, Path(tmp))
        servers = {"deploy_baseline": drivers.GrpcDriver(out, tree=tree), "deploy_confined": drivers.GrpcDriver(out)}
        try:
            for driver in servers.values():
                driver.start()
            n = 0
            for _ in range(rounds):
                for key, driver in servers.items():
                    for _ in range(compiles):
                        n += 1  # a new source each time: neither server has it compiled
                        request = pb.DeployRequest(
                            tenant=workloads.TENANT_B,
                            files=[pb.SourceFile(name=k, source=v + f"\nREVISION = {n}\n") for k, v in files.items()],
                        )
                        started = time.perf_counter()
                        response = driver.stub.Deploy(request, metadata=driver.metadata, timeout=30)
                        times[key].append((time.perf_counter() - started) * 1000)
                        assert response.HasField("deployed"), response
                        time.sleep(0.05)  # deploys come seconds apart; the pool tops its children up
        finally:
            for driver in servers.values():
                driver.close()
            trees.remove_tree(tree)
    with Pool(PoolConfig(ready_children=2)) as pool:
        confined = ConfinedCompiler(pool)
        compile_bundle(files)
        confined.compile(files)
        for _ in range(rounds * compiles):
            compile_cache_clear()
            started = time.perf_counter()
            compile_bundle(files)
            times["in_process"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            confined.compile(files)
            times["confined"].append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)
    summary = {name: stats.summarize(values) for name, values in times.items()}
    return {
        "bundle_bytes": sum(len(s.encode()) for s in files.values()),
        "rounds": rounds,
        "baseline": revision,
        "deploys_per_round": compiles,
        "ms": summary,
        "p50_ratio": _ratio(summary["deploy_confined"]["p50"], summary["deploy_baseline"]["p50"]),
        "p99_ratio": _ratio(summary["deploy_confined"]["p99"], summary["deploy_baseline"]["p99"]),
        "compile_p50_ratio": _ratio(summary["confined"]["p50"], summary["in_process"]["p50"]),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def render(result: dict[str, Any]) -> str:
    lat, dep = result["latency"], result["deploy"]
    alone, flood = lat["latency_ms"]["alone"], lat["latency_ms"]["flood"]
    ms = dep["ms"]
    met = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    lines = [
        "## Hostile compiles: another tenant's greeting, and the cost of confining the compile",
        "",
        f"`python -m bench hostile-compile` ({result['when']}, {result['machine']}). Tenant B's `start_function` "
        f"at {lat['rate_per_s']:g}/s (Poisson), {lat['rounds']} rounds of {lat['duration_s']:g} s alone and "
        f"{lat['duration_s']:g} s while {lat['flood_threads']} threads of tenant A deploy compile bombs "
        f"({', '.join(BOMB_NAMES)}).",
        "",
        "| | alone | during the flood | ratio | target |",
        "|---|---|---|---|---|",
        f"| B's start_function p50 (ms) | {alone['p50']:.2f} | {flood['p50']:.2f} | {lat['p50_ratio']} | |",
        f"| B's start_function p99 (ms) | {alone['p99']:.2f} | {flood['p99']:.2f} | {lat['p99_ratio']} | "
        f"≤ 1.5× ({met(lat['p99_ratio'] is not None and lat['p99_ratio'] <= 1.5)}) |",
        f"| B's calls (verdicts) | {lat['verdicts']['alone']} | {lat['verdicts']['flood']} | | all ok |",
        f"| server RSS growth (MiB) | | {lat['server_rss_growth_mib']:.1f} | | < 64 "
        f"({met(lat['server_rss_growth_mib'] < 64)}) |",
        "",
        f"The bombs' answers: {json.dumps(lat['bombs'], sort_keys=True)}.",
        "",
        f"Deploying an ordinary {dep['bundle_bytes']} byte bundle (a new variant each time): {dep['rounds']} "
        f"rounds of {dep['deploys_per_round']} Deploy RPCs on each server, alternating: this tree's (confined "
        f"compile) and revision {dep['baseline']}'s (the compile in the server process, before issue 16).",
        "",
        "| | p50 (ms) | p99 (ms) |",
        "|---|---|---|",
        f"| Deploy, compile in the server ({dep['baseline']}) | {ms['deploy_baseline']['p50']:.2f} | "
        f"{ms['deploy_baseline']['p99']:.2f} |",
        f"| Deploy, confined compile (this tree) | {ms['deploy_confined']['p50']:.2f} | "
        f"{ms['deploy_confined']['p99']:.2f} |",
        f"| ratio | {dep['p50_ratio']} | {dep['p99_ratio']} |",
        f"| the compile alone, in-process | {ms['in_process']['p50']:.2f} | {ms['in_process']['p99']:.2f} |",
        f"| the compile alone, confined (template child, limits, answer checked) | {ms['confined']['p50']:.2f} | "
        f"{ms['confined']['p99']:.2f} |",
        "",
        f"Target: a Deploy with the confined compile ≤ 1.5× one with the in-process compile, at p50 "
        f"({met(dep['p50_ratio'] is not None and dep['p50_ratio'] <= 1.5)}). The compile alone costs "
        f"{dep['compile_p50_ratio']}× in a confined child: a fresh child's first compile runs on pages it "
        "must first copy from the template.",
    ]
    return "\n".join(lines)


def run(
    out: Path,
    results: Path,
    *,
    rounds: int,
    duration_s: float,
    rate: float,
    width: int,
    compiles: int,
    baseline: str = BASELINE,
) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB",
        "latency": measure_latency(out, rounds, duration_s, rate, width),
        "deploy": measure_deploy(out, rounds, compiles, baseline),
    }
    (out / "hostile.json").write_text(json.dumps(result, indent=2, default=str))
    report.write_section(results, SECTION_NAME, render(result))
    return result


__all__ = ["five_kb_bundle", "run"]
