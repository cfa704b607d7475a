"""python -m bench.cgroup_moves: what moving a child into its tenant's cgroup costs.

A diagnostic outside the suite (root, a writable v1 or v2 cpu hierarchy). A sleeping
process is moved between two groups ``--n`` times, ``--gap-ms`` apart (calls arrive
apart, too), without and with ``sandbox.supervisor.cgroup_host.WarmKeeper``; prints p50/p90/max of
one ``write`` to ``cgroup.procs``. Without ``favordynmods`` on any cgroup mount, a move
after a quiet spell waits out an RCU grace period; the keeper is what keeps it away.
"""

from __future__ import annotations

import argparse
import os
import signal
import time

from bench import stats
from sandbox.supervisor import cgroup_host as host


def _moves(pid: int, fds: list[int], n: int, gap_s: float) -> dict[str, float | int | None]:
    times = []
    for i in range(n):
        started = time.perf_counter()
        os.write(fds[i % 2], str(pid).encode())
        times.append((time.perf_counter() - started) * 1000)
        time.sleep(gap_s)
    return stats.summarize(times)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cgroup_moves", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--gap-ms", type=float, default=50.0)
    args = parser.parse_args()
    version, base = host.locate(None)
    mountinfo = host.read("/proc/self/mountinfo")
    parent = os.path.join(base, f"toolpool-bench-moves-{os.getpid()}")
    groups = [os.path.join(parent, "a"), os.path.join(parent, "b")]
    for path in (parent, *groups):
        os.mkdir(path)
    pid = os.fork()
    if pid == 0:
        time.sleep(3600)
        os._exit(0)
    fds = [os.open(os.path.join(g, "cgroup.procs"), os.O_WRONLY) for g in groups]
    try:
        print(
            f"cgroup {version} at {base}; favordynmods: {host.favors_dynamic_changes(mountinfo)}; "
            f"{args.n} moves {args.gap_ms:g} ms apart (ms per move)"
        )
        print("  without the keeper:", _fmt(_moves(pid, fds, args.n, args.gap_ms / 1000)))
        v2, v1 = host.own_cgroup_dirs(mountinfo, host.read("/proc/thread-self/cgroup"))
        own = v2 if version == "v2" else v1
        keeper = host.WarmKeeper(os.path.join(own, "cgroup.threads" if version == "v2" else "tasks"))
        try:
            keeper.wake()
            time.sleep(0.05)
            times = []
            for i in range(args.n):
                keeper.wake()  # as each join does
                started = time.perf_counter()
                os.write(fds[i % 2], str(pid).encode())
                times.append((time.perf_counter() - started) * 1000)
                time.sleep(args.gap_ms / 1000)
            print("  with the keeper:   ", _fmt(stats.summarize(times)))
        finally:
            keeper.stop()
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        for fd in fds:
            os.close(fd)
        host.remove_tree(parent)


def _fmt(summary: dict[str, float | int | None]) -> str:
    return " ".join(f"{k} {summary[k]:.3f}" for k in ("p50", "p90", "max"))


if __name__ == "__main__":
    main()
