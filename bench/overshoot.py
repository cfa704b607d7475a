"""Deadline kill overshoot: how late a timed-out call really ends, with the other core busy.

Sequential calls (one at a time, so the bench's own load does not add to the figure) of
an infinite loop with a 100 ms deadline. For each: overshoot = observed end - (send +
deadline). The observed end is when the driver hands back the ``timeout`` verdict: for
the pool that includes the SIGKILL, the template's reap and the verdict; over gRPC it
also includes the transport both ways and the server's own deadline arithmetic.

The busy core comes from a CPU burner: ``python -c "while True: pass"`` in a subprocess,
left to the scheduler (not pinned), started before and stopped after the calls.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

from bench import stats
from bench.drivers import Driver
from bench.loadgen import Progress
from bench.workloads import Call


def start_burner(count: int = 1) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def stop_burner(burners: list[subprocess.Popen]) -> None:
    for proc in burners:
        proc.kill()
    for proc in burners:
        proc.wait()


def measure(
    driver: Driver, n: int, deadline_ms: int = 100, burners: int = 1, progress: Progress | None = None
) -> dict[str, Any]:
    progress = progress or Progress(False)
    call = Call("spin", deadline_ms=deadline_ms, kind=f"spin_{deadline_ms}ms")
    overshoots, verdicts = [], {}
    procs = start_burner(burners) if burners else []
    try:
        time.sleep(0.2)  # let the burner get going
        for i in range(n):
            t0 = time.perf_counter()
            verdict = driver.call(call)
            end = time.perf_counter()
            verdicts[verdict] = verdicts.get(verdict, 0) + 1
            if verdict == "timeout":
                overshoots.append((end - t0) * 1000.0 - deadline_ms)
            progress.update(
                f"overshoot/{driver.name}: {i + 1}/{n} calls, last {overshoots[-1] if overshoots else 0:.2f} ms"
            )
    finally:
        stop_burner(procs)
    summary = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in stats.summarize(overshoots).items()}
    progress.done(
        f"overshoot/{driver.name}: p50 {summary['p50']} p99 {summary['p99']} max {summary['max']} ms "
        f"over {len(overshoots)} timeouts"
    )
    return {
        "driver": driver.name,
        "deadline_ms": deadline_ms,
        "calls": n,
        "burners": burners,
        "verdicts": verdicts,
        "overshoot_ms": summary,
    }
