"""Where a timed-out call's overshoot goes: a diagnostic of the pool's kill path.

    .venv/bin/python -m bench.kill_path [--n 200] [--burners 1]

Sequential calls of an infinite loop with a 100 ms deadline through ``Pool.execute``,
with a CPU burner on the other core, timing (from the call's own deadline):

  kill_sent     the supervisor's wait ended and it sent SIGKILL through the pidfd
  dead          the pidfd became readable: the process is gone (a thread polls a dup of it)
  exit_message  the template reaped the child and its "exit" message reached the pool
  returned      Pool.execute returned the ``timeout`` verdict (what a caller sees)

The pool today waits for ``exit_message`` (the template's wait4 rusage) before it returns.
``dead`` is the earliest moment the verdict could be given. This wraps private methods of
sandbox.supervisor (``children.Child.kill``, ``Pool._on_exit``): a diagnostic, not part of the suite; if
the pool's internals change it says so and stops.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import threading
import time

from bench import overshoot, stats, workloads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--burners", type=int, default=1)
    parser.add_argument("--deadline-ms", type=int, default=100)
    args = parser.parse_args()

    from sandbox.compile.compiler import compile_bundle
    from sandbox.supervisor import children
    from sandbox.supervisor import pool as pool_mod
    from sandbox.supervisor.call import CallRequest, requested_deadline

    if not (hasattr(children.Child, "kill") and hasattr(pool_mod.Pool, "_on_exit")):
        raise SystemExit(
            "sandbox.supervisor no longer has children.Child.kill / Pool._on_exit: update bench/kill_path.py"
        )
    marks: dict[int, dict[str, float]] = {}
    lock = threading.Lock()
    original_kill, original_on_exit = children.Child.kill, pool_mod.Pool._on_exit

    def kill(child: children.Child, *args, **kwargs) -> None:
        now = time.monotonic()
        dup = os.dup(child.pidfd) if child.pidfd >= 0 else -1
        original_kill(child, *args, **kwargs)
        with lock:
            marks.setdefault(child.pid, {})["kill_sent"] = now
        if dup >= 0:

            def watch() -> None:
                poller = select.poll()
                poller.register(dup, select.POLLIN)
                poller.poll(5000)
                with lock:
                    marks[child.pid]["dead"] = time.monotonic()
                os.close(dup)

            threading.Thread(target=watch, daemon=True).start()

    def on_exit(self: pool_mod.Pool, message: dict) -> None:
        with lock:
            marks.setdefault(message["pid"], {})["exit_message"] = time.monotonic()
        original_on_exit(self, message)

    children.Child.kill = kill
    pool_mod.Pool._on_exit = on_exit
    bundle = compile_bundle(workloads.tool_files())
    parts: dict[str, list[float]] = {"kill_sent": [], "dead": [], "exit_message": [], "returned": []}
    with pool_mod.Pool(pool_mod.PoolConfig(ready_children=4)) as pool:
        burners = overshoot.start_burner(args.burners)
        try:
            time.sleep(0.2)
            for _ in range(args.n):
                before = set(pool.child_pids())
                # A request per call: its deadline is counted from when it is made.
                request = CallRequest(
                    tenant="bench-b", bundle=bundle, function="spin", deadline=requested_deadline(args.deadline_ms)
                )
                result = pool.execute(request)
                end = time.monotonic()
                if result.status.value != "timeout":
                    continue
                deadline = request.deadline.at
                time.sleep(0.01)
                with lock:
                    pid = next((p for p in marks if p in before and "returned" not in marks[p]), None)
                    if pid is None:
                        continue
                    m = marks[pid]
                    m["returned"] = end
                for key in parts:
                    if key in m:
                        parts[key].append((m[key] - deadline) * 1000.0)
        finally:
            overshoot.stop_burner(burners)
    out = {
        key: {k: (round(v, 3) if isinstance(v, float) else v) for k, v in stats.summarize(values).items()}
        for key, values in parts.items()
    }
    print(json.dumps({"deadline_ms": args.deadline_ms, "burners": args.burners, "ms_after_deadline": out}, indent=1))


if __name__ == "__main__":
    main()
