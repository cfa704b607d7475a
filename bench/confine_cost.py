"""What confinement costs, per child: each step of confine_child, and the fork cycle.

    .venv/bin/python bench/confine_cost.py [--n 400] [--unprivileged]

The script becomes a template itself (prepare_template changes ITS namespaces; run it as
a separate process, never import it), then forks children that confine themselves and
time each step with perf_counter_ns, and reports p50 / p90 in microseconds. It re-execs
itself with an empty environment, as the pool starts the real template.

Variants of the whole cycle (fork -> confine -> exit -> reaped by the parent), measured
round-robin so that other load on the machine hits them alike:
    unconfined          fork and exit, nothing else
    full                every step (production)
    full, no private /tmp   ConfinementConfig(private_tmp=False)
and the cost of the seccomp filter on one cheap system call (getppid).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time

from sandbox.confine.child_side import child_steps, confine_child
from sandbox.confine.config import ConfinementConfig, Prepared
from sandbox.confine.template_side import DEFAULT_PRELOAD, prepare_template
from sandbox.policy import Limits

_pc = time.perf_counter_ns


def _percentiles(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values), values[int(len(values) * 0.9)]


def _child_timings(prepared: Prepared, uid: int, limits: Limits, w: int) -> None:
    """In the child: run each step, timed; report; exit."""
    marks = []
    steps = child_steps(prepared, uid=uid, keep_fds=[w], limits=limits)
    for name, step in steps:
        start = _pc()
        step()
        marks.append((name, (_pc() - start) / 1000))
    start = _pc()
    for _ in range(2000):
        os.getppid()
    per_call_ns = (_pc() - start) / 2000
    os.write(w, json.dumps({"steps": marks, "getppid_ns": per_call_ns}).encode())
    os._exit(0)


def measure_steps(prepared: Prepared, limits: Limits, n: int) -> dict:
    per_step: dict[str, list[float]] = {}
    totals, getppid = [], []
    for i in range(n):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            _child_timings(prepared, prepared.config.child_uid(i), limits, w)
        os.close(w)
        data = b""
        while chunk := os.read(r, 65536):
            data += chunk
        os.close(r)
        os.waitpid(pid, 0)
        report = json.loads(data)
        for name, us in report["steps"]:
            per_step.setdefault(name, []).append(us)
        totals.append(sum(us for _, us in report["steps"]))
        getppid.append(report["getppid_ns"])
    return {
        "steps": {k: _percentiles(v) for k, v in per_step.items()},
        "total": _percentiles(totals),
        "getppid_ns": _percentiles(getppid),
    }


def _one_cycle(prepared: Prepared | None, limits: Limits, serial: int) -> float:
    """fork -> (confine) -> tell the parent -> exit -> reaped; wall microseconds."""
    r, w = os.pipe()
    t0 = _pc()
    pid = os.fork()
    if pid == 0:
        if prepared is not None:
            confine_child(prepared, uid=prepared.config.child_uid(serial), keep_fds=[w], limits=limits)
        os.write(w, b"r")
        os._exit(0)
    os.close(w)
    os.read(r, 1)
    os.close(r)
    os.waitpid(pid, 0)
    return (_pc() - t0) / 1000


def measure_cycles(variants: dict[str, Prepared | None], limits: Limits, n: int) -> dict:
    """Round-robin over the variants, so that other load on the machine hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for i in range(n):
        for name, prepared in variants.items():
            samples[name].append(_one_cycle(prepared, limits, i))
    out = {}
    for name, values in samples.items():
        p50, p90 = _percentiles(values)
        out[name] = {"p50_us": p50, "p90_us": p90, "cycles_per_s": len(values) / (sum(values) / 1e6)}
    return out


def measure_getppid(n: int) -> float:
    """ns per getppid() without a filter (in a plain child, for the same page state)."""
    values = []
    for _ in range(n):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            start = _pc()
            for _ in range(2000):
                os.getppid()
            os.write(w, str((_pc() - start) / 2000).encode())
            os._exit(0)
        os.close(w)
        values.append(float(os.read(r, 100)))
        os.close(r)
        os.waitpid(pid, 0)
    return statistics.median(values)


def _reexec_clean() -> None:
    if set(os.environ) - {"LC_CTYPE"}:
        os.execve(sys.executable, [sys.executable, "-I", os.path.abspath(__file__), *sys.argv[1:]], {})


def _drop_to_nobody() -> None:
    import ctypes

    for module in ("pyseccomp", *DEFAULT_PRELOAD):
        __import__(module)
    os.setgroups([])
    os.setresgid(65534, 65534, 65534)
    os.setresuid(65534, 65534, 65534)
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)


def main() -> None:
    _reexec_clean()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="children per measurement")
    parser.add_argument(
        "--unprivileged", action="store_true", help="as root: drop to nobody first, to measure the user-namespace path"
    )
    args = parser.parse_args()
    if args.unprivileged and os.geteuid() == 0:
        _drop_to_nobody()
    limits = Limits()

    unfiltered_ns = measure_getppid(min(args.n, 100))
    t0 = _pc()
    prepared = prepare_template(ConfinementConfig())
    prepare_ms = (_pc() - t0) / 1e6
    no_tmp = dataclasses.replace(prepared, config=dataclasses.replace(prepared.config, private_tmp=False))
    steps = measure_steps(prepared, limits, args.n)
    cycles = measure_cycles({"unconfined": None, "full": prepared, "full, no private /tmp": no_tmp}, limits, args.n)

    print(
        f"mode: {prepared.mode}; children per figure: {args.n}; "
        f"prepare_template once: {prepare_ms:.1f} ms; BPF: {len(prepared.bpf) // 8} instructions"
    )
    print(f"\n{'confine_child step':<24}{'p50 us':>10}{'p90 us':>10}")
    for name, (p50, p90) in steps["steps"].items():
        print(f"{name:<24}{p50:>10.1f}{p90:>10.1f}")
    p50, p90 = steps["total"]
    print(f"{'total':<24}{p50:>10.1f}{p90:>10.1f}")
    p50, _ = steps["getppid_ns"]
    print(f"\ngetppid(): {p50:.0f} ns per call under the filter, {unfiltered_ns:.0f} ns without")
    print(f"\n{'fork cycle':<24}{'p50 us':>10}{'p90 us':>10}{'cycles/s':>10}")
    for name, c in cycles.items():
        print(f"{name:<24}{c['p50_us']:>10.0f}{c['p90_us']:>10.0f}{c['cycles_per_s']:>10.0f}")


if __name__ == "__main__":
    main()
