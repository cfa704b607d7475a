"""Where the server's CPU goes, by phase: ``python -m bench.server_phases OUT.json -- serve ...``.

Runs ``worker.cli`` with the arguments after ``--`` (as ``python -m worker.cli`` would),
with one extra daemon thread: every ``INTERVAL_S`` it reads each Python thread's own CPU
clock (``pthread_getcpuclockid``) and its stack (``sys._current_frames``), and charges the
CPU that thread used since the last sample to the phase of the innermost frame that
belongs to a known part of the server (``PHASES``: the servicer, translation, admission,
the store and caches, the pool hand-off, the frame, validation, the verdict, logging,
metrics, gRPC's Python side...). CPU of threads with no Python frame (gRPC's C core
threads) is the process's CPU less that of the Python threads. The sampler's own CPU is
reported apart and belongs to no phase. At exit (SIGTERM drains the server, then
``main`` returns) it writes ``{"phases": {phase: cpu_s}, "c_threads_s", "sampler_s",
"process_s"}`` to OUT.json.

The attribution is statistical: a thread's CPU over one interval goes to where its stack
was at the interval's end. Over thousands of calls the shares are sound; one call's are not.
This is bench code: nothing of it is in the server unless the bench starts it this way.
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path
from types import FrameType

INTERVAL_S = 0.0005

# (path fragment, phase), first match wins; checked from the innermost frame outward.
PHASES: tuple[tuple[str, str], ...] = (
    ("/worker/observability.py", "logging"),
    ("/logging/", "logging"),
    ("/worker/metrics.py", "metrics"),
    ("/prometheus_client/", "metrics"),
    ("/opentelemetry/", "tracing"),
    ("/sandbox/supervisor/normalize.py", "validation (normalize)"),
    ("/sandbox/supervisor/verdict.py", "verdict"),
    ("/sandbox/supervisor/call.py", "frame out, reply in (call.py)"),
    ("/sandbox/supervisor/cgroups.py", "cgroup join"),
    ("/sandbox/supervisor/cgroup_host.py", "cgroup join"),
    ("/sandbox/supervisor/pool.py", "pool: hand-off, manager, reap"),
    ("/sandbox/supervisor/", "pool: hand-off, manager, reap"),
    ("/sandbox/plaindata.py", "state changes (plaindata)"),
    ("/worker/store/", "store and caches"),
    ("/worker/catalog.py", "store and caches"),
    ("/worker/admission.py", "admission"),
    ("/worker/translate.py", "translation"),
    ("/worker/servicer.py", "servicer"),
    ("/worker/auth.py", "servicer"),
    ("/worker/service.py", "service"),
    ("/grpc/", "gRPC, Python side"),
    ("/google/protobuf/", "protobuf"),
)


def phase_of(frame: FrameType | None) -> str:
    while frame is not None:
        filename = frame.f_code.co_filename
        for fragment, phase in PHASES:
            if fragment in filename:
                return phase
        frame = frame.f_back
    return "other Python (threads, interpreter)"


class Sampler:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.phases: dict[str, float] = {}
        self.python_threads_s = 0.0
        self._last: dict[int, float] = {}
        self.sampler_s: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-phase-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()
        atexit.register(self.finish)

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(INTERVAL_S):
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                try:
                    now = time.clock_gettime(time.pthread_getcpuclockid(ident))
                except OSError:  # the thread ended meanwhile
                    self._last.pop(ident, None)
                    continue
                used = now - self._last.get(ident, now)
                self._last[ident] = now
                if used > 0:
                    phase = phase_of(frame)
                    self.phases[phase] = self.phases.get(phase, 0.0) + used
                    self.python_threads_s += used
        self.sampler_s = time.thread_time()

    def finish(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        process_s = usage.ru_utime + usage.ru_stime
        sampler_s = self.sampler_s
        self.out.write_text(
            json.dumps(
                {
                    "phases": {k: round(v, 4) for k, v in sorted(self.phases.items(), key=lambda kv: -kv[1])},
                    "python_threads_s": round(self.python_threads_s, 4),
                    "process_s": round(process_s, 4),
                    "sampler_s": round(sampler_s, 4) if sampler_s is not None else None,
                    "pid": os.getpid(),
                },
                indent=1,
            )
            + "\n"
        )


def main() -> None:
    out = Path(sys.argv[1])
    rest = sys.argv[sys.argv.index("--") + 1 :]
    Sampler(out).start()
    from worker.cli import main as cli_main

    sys.argv = ["toolpool", *rest]
    cli_main()


if __name__ == "__main__":
    main()
