"""python -m bench versions: this tree against a baseline revision, in one run.

    python -m bench versions [--baseline REV] [--rounds 5] [--compiles 30] [--calls 300]

What changed in the runtime's hot paths is measured against the code before the change,
on the same machine in the same run, so that the shared machine's noise falls on both
alike: the baseline revision is checked out into a temporary git worktree, and each
measurement runs in a fresh interpreter of either tree, alternating tree by tree for
``--rounds`` rounds. Reported, each as a median over rounds with the ratio
this/baseline:

* compile time of a 500-line tool (``compile_bundle`` with the cache cleared: p50 and
  p99 of ``--compiles`` compiles per round). The tool uses only what both compilers
  accept;
* fresh-mode CPU per call of the seed's ``start_function`` through ``Pool.execute``
  (the calling process plus the template and every child it forked and reaped, per
  call; ``--calls`` sequential calls per round after a warm-up);
* USS of a ready child and the template's RSS and USS (``/proc/PID/smaps``).

The figures go to stdout as JSON and into ``bench/RESULTS.md`` (a section of its own).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import report, trees

ROOT = Path(__file__).resolve().parent.parent
SEED_START = ROOT / "tests" / "seeds" / "002_start_function.py"
SECTION = "## Ordinary Python and the modules, against the code before"

# Runs inside a fresh interpreter of either tree (PYTHONPATH and cwd are the tree): only
# the sandbox's public API, unchanged between the trees.
_PROBE = r"""
import json, statistics, sys, time
import psutil

mode, arg = sys.argv[1], sys.argv[2]
if mode == "compile":
    from sandbox.compile.compiler import compile_bundle, compile_cache_clear
    source, n = open(arg).read(), int(sys.argv[3])
    compile_bundle({"tool.py": source})  # imports and first-use costs out of the figures
    times = []
    for _ in range(n):
        compile_cache_clear()
        start = time.perf_counter()
        compile_bundle({"tool.py": source})
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(json.dumps({"p50_ms": statistics.median(times), "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))]}))
else:
    from sandbox.supervisor.call import CallRequest, validate_input
    from sandbox.compile.compiler import compile_bundle
    from sandbox.supervisor.pool import Pool, PoolConfig

    bundle = compile_bundle({"start_function.py": open(arg).read()})
    conv = {"state": {"from_": "+15551230000", "to": "+441234567890", "call_sid": "CA1"}, "env": "live",
            "channel_type": "sip.polyai", "caller_number": "+15551230000", "callee_number": "+441234567890",
            "sip_headers": {"X-Language": "en"}, "integration_attributes": {"shared_id": "SH-1"},
            "variants": {"london": {"callee": "+441234567890"}}}
    request = CallRequest(tenant="bench", bundle=bundle, function="start_function", input=validate_input(conv))
    me = psutil.Process()

    def tree_cpu(template):
        total = 0.0
        for proc in [template] + template.children(recursive=True):
            try:
                t = proc.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
            except psutil.Error:
                pass
        return total

    # The template is exec'd as `python -I -m sandbox.template FD`, which would import the
    # installed (this) tree; a launcher puts the probed tree first on its path instead.
    import os, tempfile
    launcher = os.path.join(tempfile.mkdtemp(prefix="toolpool-launcher-"), "python")
    with open(launcher, "w") as out:
        out.write(f"#!{sys.executable} -I\nimport runpy, sys\nsys.path.insert(0, {os.getcwd()!r})\n"
                  "sys.argv = ['sandbox.template', sys.argv[-1]]\n"
                  "runpy.run_module('sandbox.template', run_name='__main__', alter_sys=True)\n")
    os.chmod(launcher, 0o755)
    with Pool(PoolConfig(ready_children=4, python=launcher)) as pool:
        for _ in range(30):
            result = pool.execute(request)
            assert result.status.value == "ok", (result.status, result.error)
        template = psutil.Process(pool.stats()["template_pid"])
        n = int(sys.argv[3])
        before = sum(me.cpu_times()[:2]) + tree_cpu(template)
        for _ in range(n):
            pool.execute(request)
        after = sum(me.cpu_times()[:2]) + tree_cpu(template)
        time.sleep(0.5)  # the pool tops its ready children up
        busy = set(pool.busy_child_pids())
        uss = []
        for pid in pool.child_pids():
            if pid not in busy:
                try:
                    uss.append(psutil.Process(pid).memory_full_info().uss / 1048576)
                except psutil.Error:
                    pass
        info = template.memory_full_info()
    print(json.dumps({"cpu_ms_per_call": (after - before) * 1000 / n, "child_uss_mb": max(uss) if uss else None,
                      "template_rss_mb": info.rss / 1048576, "template_uss_mb": info.uss / 1048576}))
"""


def five_hundred_line_tool() -> str:
    """A 500-line tool both compilers accept: helpers, loops, dicts, f-strings, state."""
    blocks = ["import datetime\nimport json\nimport re\n\nMENU = {'soup': 4.5, 'salad': 6.0, 'steak': 19.0}\n"]
    for i in range(24):
        blocks.append(f"""
def helper{i}(conv, items, limit={i + 1}):
    total = 0
    seen = []
    for name, qty in items.items():
        price = MENU.get(name, 0.0)
        if qty > limit:
            qty = limit
        total = total + price * qty
        seen.append(f"{{name}} x{{qty}}")
    note = ", ".join(sorted(seen))
    if re.match(r"^[a-z ,x0-9]*$", note):
        conv.state.last_note = note
    stamp = datetime.date(2026, 1, {i % 28 + 1}).isoformat()
    payload = json.dumps({{"total": round(total, 2), "note": note, "day": stamp}})
    parts = [p for p in payload.split(",") if p]
    counts = {{}}
    for part in parts:
        counts[part[:3]] = counts.get(part[:3], 0) + 1
    return {{"content": f"{{len(parts)}} parts, {{sum(counts.values())}} counted"}}
""")
    source = "".join(blocks)
    lines = source.count("\n")
    return source + "\n" * max(0, 500 - lines)


def _run_probe(tree: Path, mode: str, arg: str, count: int) -> dict[str, Any]:
    env = {"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, mode, arg, str(count)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"probe {mode} in {tree} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(baseline: str, rounds: int, compiles: int, calls: int) -> dict[str, Any]:
    revision, current = trees.short_revision(baseline), trees.short_revision("HEAD")
    samples: dict[str, dict[str, list[float]]] = {"baseline": {}, "this": {}}
    with tempfile.TemporaryDirectory(prefix="toolpool-bench-") as tmp:
        tool = Path(tmp) / "tool500.py"
        tool.write_text(five_hundred_line_tool())
        tree = trees.baseline_tree(revision, Path(tmp))
        try:
            for _ in range(rounds):
                for label, root in (("baseline", tree), ("this", ROOT)):
                    figures = {
                        **_run_probe(root, "compile", str(tool), compiles),
                        **_run_probe(root, "pool", str(SEED_START), calls),
                    }
                    for key, value in figures.items():
                        if value is not None:
                            samples[label].setdefault(key, []).append(value)
        finally:
            trees.remove_tree(tree)
    medians = {
        label: {key: statistics.median(values) for key, values in figures.items()} for label, figures in samples.items()
    }
    ratios = {
        key: medians["this"][key] / medians["baseline"][key] for key in medians["this"] if medians["baseline"].get(key)
    }
    return {
        "baseline": revision,
        "this": current,
        "rounds": rounds,
        "compiles_per_round": compiles,
        "calls_per_round": calls,
        "medians": medians,
        "ratios": ratios,
        "samples": samples,
    }


def render(result: dict[str, Any]) -> str:
    m, r = result["medians"], result["ratios"]
    rows = [
        ("compile a 500-line tool, p50 (ms)", "p50_ms", "≤ 1.1×"),
        ("compile a 500-line tool, p99 (ms)", "p99_ms", ""),
        ("fresh-mode CPU per call, seed start_function (ms)", "cpu_ms_per_call", "≤ 1.05×"),
        ("USS of a ready child, max (MB)", "child_uss_mb", "≤ 3 MB"),
        ("template RSS (MB)", "template_rss_mb", "reported"),
        ("template USS (MB)", "template_uss_mb", "reported"),
    ]
    lines = [
        SECTION,
        "",
        f"`python -m bench versions --baseline {result['baseline']}` at `{result['this']}`: "
        f"{result['rounds']} alternating rounds, each a fresh interpreter per tree; medians over rounds.",
        "",
        "| measure | before | after | after/before | target |",
        "|---|---|---|---|---|",
    ]
    for label, key, target in rows:
        if key in m["this"] and key in m["baseline"]:
            lines.append(
                f"| {label} | {m['baseline'][key]:.2f} | {m['this'][key]:.2f} | {r.get(key, float('nan')):.3f} | {target} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench versions")
    parser.add_argument("--baseline", default="71b3686", help="the revision to compare against")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--compiles", type=int, default=30)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args(argv)
    result = measure(args.baseline, args.rounds, args.compiles, args.calls)
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=2))
    report.write_section(args.results, "versions", render(result))


if __name__ == "__main__":
    main()
