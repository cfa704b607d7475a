"""python -m bench import-time: what ``import toolpool`` costs a client, beside the floor it
cannot beat, ``import grpc`` plus the generated stubs.

    python -m bench import-time [--rounds 15] [--results bench/RESULTS.md]

Each round starts one fresh interpreter per case, in rotating order (so background load
on a shared machine hits every case alike), and times only the import statement inside
it with ``time.perf_counter`` (interpreter start-up is the same for every case and left
out). The figure is the median over rounds. Bytecode is cached as an installed package
has it (pip compiles at install): the children write and read it under
``OUT/pycache`` (PYTHONPYCACHEPREFIX), whatever PYTHONDONTWRITEBYTECODE says here. Cases:

    floor    import grpc; from worker._proto.toolpool.v1 import toolpool_pb2, toolpool_pb2_grpc
    client   from toolpool import Client, AsyncClient, Result   (what a client program does)
    package  import toolpool                                      (names load on first use)

Target (issue 17): the client at most 1.2x the floor. Writes its own section of
RESULTS.md (``report.write_section``) and ``OUT/import-time.json``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

SECTION_NAME = "import-time"
TARGET_RATIO = 1.2
REPO = Path(__file__).resolve().parent.parent

CASES = {
    "floor": "import grpc\nfrom worker._proto.toolpool.v1 import toolpool_pb2, toolpool_pb2_grpc",
    "client": "from toolpool import Client, AsyncClient, Result",
    "package": "import toolpool",
}

_PROBE = """\
import time
started = time.perf_counter()
{statement}
print((time.perf_counter() - started) * 1000)
"""


def time_import(statement: str, pycache: Path) -> float:
    """Milliseconds the import statement takes in a fresh interpreter (bytecode cached)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(statement=statement)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def measure(rounds: int, pycache: Path) -> dict[str, Any]:
    for statement in CASES.values():  # write the bytecode caches and warm the page cache first
        time_import(statement, pycache)
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    names = list(CASES)
    for round_index in range(rounds):
        order = names[round_index % len(names) :] + names[: round_index % len(names)]
        for name in order:
            samples[name].append(time_import(CASES[name], pycache))
    medians = {name: round(statistics.median(values), 2) for name, values in samples.items()}
    return {
        "rounds": rounds,
        "median_ms": medians,
        "min_ms": {name: round(min(values), 2) for name, values in samples.items()},
        "ratio_client_to_floor": round(medians["client"] / medians["floor"], 3),
        "target_ratio": TARGET_RATIO,
        "statements": CASES,
        "python": sys.version.split()[0],
    }


def markdown(result: dict[str, Any], command: str, commit: str) -> str:
    ratio = result["ratio_client_to_floor"]
    verdict = "MET" if ratio <= result["target_ratio"] else "MISSED"
    rows = "\n".join(
        f"| {name} | `{result['statements'][name].replace(chr(10), '; ')}` | {result['median_ms'][name]:.1f} ms "
        f"| {result['min_ms'][name]:.1f} ms |"
        for name in ("floor", "client", "package")
    )
    return f"""## Import time of the client

`{command}` at {commit}, Python {result["python"]}, {result["rounds"]} rounds of one fresh interpreter per case,
the import statement alone timed inside it.

| case | statement | median | min |
|---|---|---|---|
{rows}

Target: `from toolpool import Client, AsyncClient, Result` at most {result["target_ratio"]}x `import grpc` plus the
generated stubs: **{verdict}** ({ratio}x). `import toolpool` alone loads its names on first use, so it costs
next to nothing (`toolpool --version`, `toolpool.tool` and the pytest plugin do not load grpc)."""


def run(argv: list[str]) -> int:
    import argparse

    from bench import report

    parser = argparse.ArgumentParser(prog="python -m bench import-time", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--results", type=Path, default=REPO / "bench" / "RESULTS.md")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    args = parser.parse_args(argv)
    meta = report.metadata(["python", "-m", "bench", "import-time", *argv], False, None)
    result = measure(args.rounds, args.out / "pycache")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "import-time.json").write_text(json.dumps({"meta": meta, "import_time": result}, indent=1) + "\n")
    section = markdown(result, meta["command"], (meta.get("commit") or "?")[:7])
    report.write_section(args.results, SECTION_NAME, section)
    print(section)
    print(f"wrote {args.out / 'import-time.json'} and {args.results}")
    return 0 if result["ratio_client_to_floor"] <= TARGET_RATIO else 1
