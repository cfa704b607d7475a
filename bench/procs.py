"""Process creation and IPC alternatives, measured on the same trivial call (issue 3).

    .venv/bin/python -m bench.procs [--n 100] [--seconds 3] [--json FILE]

Run as its own process so that every alternative forks from a parent of the same size
(one that imported the child runtime, ``sandbox.child.entry``, and nothing heavy: the
size of a template, not of a gRPC server).

Creation: for each method, a new process receives one request frame (the trivial tool,
RestrictedPython-compiled, exactly what a pool child gets), runs it with run_request,
answers and exits. Figures:

  first_answer_ms   from asking for a process to its answer: creation + readiness + one call
  cycle_ms          first_answer + exit + reap: the whole cost of one single-use process
  cycles_per_s      sequential (one caller) and with 2 callers at once (2 cores)

Methods: toolpool's template (sandbox.template, confined, and unconfined for the cost
of confinement), multiprocess (dill) Process with fork, multiprocessing fork, forkserver
(default, and with the runtime preloaded), spawn, and a ``python -I`` subprocess.
toolpool's pre-forked pool takes creation off the critical path; its critical-path
figure is in the main suite (Pool.execute latency and saturation).

IPC: a parent and a long-lived child echo a message back and forth: toolpool's framing
(socketpair, 4-byte length, JSON), multiprocessing.Pipe (pickle), multiprocess.Pipe
(dill), for a small message and a 10 KB state dict, with both processes on one CPU and on
different CPUs. Round-trip microseconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import marshal
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from sandbox import protocol
from sandbox.child import entry

_pc = time.perf_counter
FRAME: bytes = b""  # set in main(); inherited by forked children, sent to the others


def _trivial_frame() -> bytes:
    from bench import workloads
    from sandbox.compile.compiler import compile_bundle
    from sandbox.supervisor.call import CallRequest, prepare

    bundle = compile_bundle(workloads.tool_files())
    return prepare(CallRequest(tenant="bench-b", bundle=bundle, function="trivial")).frame()


def _run_frame(frame: bytes) -> bytes:
    code, request = marshal.loads(frame)
    reply = entry.run_request(request, code)
    return json.dumps(reply).encode()


def mp_child(conn: Any) -> None:
    """multiprocessing / multiprocess target: one call, then exit."""
    frame = conn.recv_bytes()
    conn.send_bytes(_run_frame(frame))
    conn.close()


# -- one cycle per method ----------------------------------------------------------------


def _mp_cycle(ctx: Any) -> tuple[float, float]:
    t0 = _pc()
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=mp_child, args=(child,))
    proc.start()
    child.close()
    parent.send_bytes(FRAME)
    parent.recv_bytes()
    t_answer = _pc()
    proc.join()
    parent.close()
    return (t_answer - t0) * 1000, (_pc() - t0) * 1000


def _subprocess_cycle() -> tuple[float, float]:
    child = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spawn_child.py")
    t0 = _pc()
    proc = subprocess.Popen(
        [sys.executable, "-I", child], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={}, cwd="/"
    )
    proc.stdin.write(FRAME)
    proc.stdin.close()
    proc.stdout.read()
    t_answer = _pc()
    proc.wait()
    proc.stdout.close()
    return (t_answer - t0) * 1000, (_pc() - t0) * 1000


def _template_extras() -> dict[str, Any]:
    """Whatever else the pool's configure message carries (the warm-up call, since baa7659)."""
    from sandbox.supervisor import pool

    warmup = getattr(pool, "_warmup_frame", None)
    return {"warmup": warmup()} if warmup is not None else {}


class TemplateClient:
    """Speaks sandbox.template's control protocol directly (see its module docstring), to
    time the creation of one confined child: spawn -> child fds -> answer -> exit reaped."""

    def __init__(self, confined: bool = True) -> None:
        from sandbox.confine.config import ConfinementConfig
        from sandbox.policy import Limits

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "sandbox.template", str(theirs.fileno())],
            env={},
            cwd="/",
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        configure = {
            "op": "configure",
            "limits": dataclasses.asdict(Limits()),
            "confinement": dataclasses.asdict(ConfinementConfig(enabled=confined)),
        }
        configure.update(_template_extras())
        ours.send(json.dumps(configure).encode())
        reply = json.loads(ours.recv(1 << 16))
        if reply.get("op") != "ready":
            raise RuntimeError(f"template did not start: {reply}")
        self.ctl = ours
        self.lock = threading.Lock()
        self.waiting: dict[int, threading.Event] = {}
        self.pending: list[tuple[dict, list[int]]] = []

    def _recv(self) -> tuple[dict, list[int]]:
        data, fds, _flags, _addr = socket.recv_fds(self.ctl, 1 << 16, 2)
        return json.loads(data), fds

    def cycle(self) -> tuple[float, float]:
        t0 = _pc()
        self.ctl.send(json.dumps({"op": "spawn", "count": 1, "max_calls": 1}).encode())
        message, fds = self._recv()
        while message["op"] != "child":
            message, fds = self._recv()
        channel, pidfd = fds
        child_pid = message["pid"]
        protocol.write_frame(channel, FRAME)
        protocol.read_frame(channel, 1 << 24)  # the answer (a kind byte, then JSON)
        t_answer = _pc()
        os.close(channel)
        os.close(pidfd)
        while True:  # the template reaps the child and says so
            message, fds = self._recv()
            for fd in fds:
                os.close(fd)
            if message["op"] == "exit" and message["pid"] == child_pid:
                break
        return (t_answer - t0) * 1000, (_pc() - t0) * 1000

    def close(self) -> None:
        self.ctl.close()
        self.proc.wait(timeout=10)


def _measure(cycle: Callable[[], tuple[float, float]], n: int, seconds: float, parallel: bool) -> dict[str, Any]:
    cycle()  # warm-up (imports, the forkserver's start)
    answers, cycles = [], []
    for _ in range(n):
        a, c = cycle()
        answers.append(a)
        cycles.append(c)
    out = {
        "n": n,
        "first_answer_ms": _pcts(answers),
        "cycle_ms": _pcts(cycles),
        "cycles_per_s_1": round(n / (sum(cycles) / 1000), 1),
    }
    if parallel:
        count = [0, 0]
        stop = _pc() + seconds

        def worker(i: int) -> None:
            while _pc() < stop:
                cycle()
                count[i] += 1

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
        t0 = _pc()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out["cycles_per_s_2"] = round(sum(count) / (_pc() - t0), 1)
    return out


def _pcts(values: list[float]) -> dict[str, float]:
    v = sorted(values)
    return {
        "p50": round(statistics.median(v), 3),
        "p99": round(v[min(len(v) - 1, int(len(v) * 0.99))], 3),
        "max": round(v[-1], 3),
    }


def creation(n: int, seconds: float, slow_n: int) -> dict[str, Any]:
    import multiprocessing

    import multiprocess

    results: dict[str, Any] = {}
    for confined in (True, False):
        name = "toolpool template fork (confined)" if confined else "toolpool template fork (unconfined)"
        client = TemplateClient(confined)
        try:
            results[name] = _measure(client.cycle, n, seconds, parallel=False)
        finally:
            client.close()
    # The 2-caller figure for our template is the pool's saturation (main suite).
    mp_fork = multiprocessing.get_context("fork")
    results["multiprocess (dill) fork Process"] = _measure(
        lambda: _mp_cycle(multiprocess.get_context("fork")), n, seconds, parallel=True
    )
    results["multiprocessing fork Process"] = _measure(lambda: _mp_cycle(mp_fork), n, seconds, parallel=True)
    fs_default = multiprocessing.get_context("forkserver")
    results["multiprocessing forkserver (default)"] = _measure(
        lambda: _mp_cycle(fs_default), slow_n, seconds, parallel=True
    )
    results["multiprocessing spawn"] = _measure(
        lambda: _mp_cycle(multiprocessing.get_context("spawn")), slow_n, seconds, parallel=True
    )
    results["python -I subprocess"] = _measure(_subprocess_cycle, slow_n, seconds, parallel=True)
    return results


def creation_forkserver_preloaded(n: int, seconds: float) -> dict[str, Any]:
    """A forkserver that imported the runtime first (set_forkserver_preload): its own process."""
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["sandbox.child.entry", "bench.procs"])
    return _measure(lambda: _mp_cycle(ctx), n, seconds, parallel=True)


# -- IPC ----------------------------------------------------------------------------------


def _pin(cpu: int) -> None:
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError:
        pass


def _ours_echo_child(sock: socket.socket) -> None:
    fd = sock.fileno()
    while True:
        frame = protocol.read_frame(fd, 1 << 24)
        if frame is None:
            os._exit(0)
        protocol.write_frame(fd, json.dumps(json.loads(frame)).encode())


def _ipc_ours(message: Any, n: int, child_cpu: int) -> list[float]:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        a.close()
        _pin(child_cpu)
        _ours_echo_child(b)
    b.close()
    fd = a.fileno()
    out = []
    for _ in range(n):
        t0 = _pc()
        protocol.write_frame(fd, json.dumps(message).encode())
        json.loads(protocol.read_frame(fd, 1 << 24))
        out.append((_pc() - t0) * 1e6)
    a.close()
    os.waitpid(pid, 0)
    return out


def _pipe_echo_child(conn: Any, cpu: int) -> None:
    _pin(cpu)
    while True:
        message = conn.recv()
        if message is None:  # the fork child also holds the parent's end: no EOF to wait for
            return
        conn.send(message)


def _ipc_pipe(module: Any, message: Any, n: int, child_cpu: int) -> list[float]:
    ctx = module.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_pipe_echo_child, args=(child, child_cpu))
    proc.start()
    child.close()
    out = []
    for _ in range(n):
        t0 = _pc()
        parent.send(message)
        parent.recv()
        out.append((_pc() - t0) * 1e6)
    parent.send(None)
    proc.join()
    parent.close()
    return out


def ipc(n: int) -> dict[str, Any]:
    import multiprocessing

    import multiprocess

    from bench import workloads

    messages = {
        "small": {"op": "call", "id": 1, "ok": True},
        "10KB dict": workloads.greeting_conversation(10 * 1024)["state"],
    }
    methods: dict[str, Callable[[Any, int, int], list[float]]] = {
        "toolpool socket + JSON framing": _ipc_ours,
        "multiprocessing Pipe (pickle)": lambda m, k, c: _ipc_pipe(multiprocessing, m, k, c),
        "multiprocess Pipe (dill)": lambda m, k, c: _ipc_pipe(multiprocess, m, k, c),
    }
    cpus = sorted(os.sched_getaffinity(0))
    placements = {"same CPU": cpus[0], "across CPUs": cpus[1] if len(cpus) > 1 else cpus[0]}
    out: dict[str, Any] = {}
    original = os.sched_getaffinity(0)
    try:
        for name, method in methods.items():
            out[name] = {}
            for label, message in messages.items():
                out[name][label] = {"bytes": len(json.dumps(message))}
                for where, child_cpu in placements.items():
                    _pin(cpus[0])
                    k = n if label == "small" else max(50, n // 4)
                    samples = method(message, k, child_cpu)
                    out[name][label][where] = {
                        "p50_us": round(statistics.median(samples), 1),
                        "p99_us": round(sorted(samples)[int(len(samples) * 0.99)], 1),
                        "n": k,
                    }
    finally:
        os.sched_setaffinity(0, original)
    return out


def main() -> None:
    global FRAME
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="sequential cycles for the fork-based methods")
    parser.add_argument("--slow-n", type=int, default=20, help="sequential cycles for spawn, forkserver, subprocess")
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of the 2-caller figure")
    parser.add_argument("--ipc-n", type=int, default=2000, help="round trips per small-message figure")
    parser.add_argument("--only", choices=("creation", "ipc", "forkserver-preloaded"))
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    FRAME = _trivial_frame()
    out: dict[str, Any] = {}
    if args.only in (None, "creation"):
        out["creation"] = creation(args.n, args.seconds, args.slow_n)
    if args.only == "forkserver-preloaded":
        out["creation"] = {
            "multiprocessing forkserver (runtime preloaded)": creation_forkserver_preloaded(args.n, args.seconds)
        }
    if args.only in (None, "ipc"):
        out["ipc"] = ipc(args.ipc_n)
    text = json.dumps(out, indent=1)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text)
    else:
        print(text)


def run_all(n: int, slow_n: int, seconds: float, ipc_n: int, timeout_s: float = 900) -> dict[str, Any]:
    """Runs the figures in fresh processes (the preloaded forkserver needs its own) and merges them."""
    import tempfile

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    merged: dict[str, Any] = {"creation": {}, "ipc": {}}
    for only in ("creation", "forkserver-preloaded", "ipc"):
        with tempfile.NamedTemporaryFile(suffix=".json") as f:
            # ``-c``, not ``-m bench.procs``: spawn and forkserver children then do not re-run
            # this module as their __main__ (they import bench.procs for the target only).
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import sys; from bench.procs import main; main()",
                    "--only",
                    only,
                    "--n",
                    str(n),
                    "--slow-n",
                    str(slow_n),
                    "--seconds",
                    str(seconds),
                    "--ipc-n",
                    str(ipc_n),
                    "--json",
                    f.name,
                ],
                cwd=repo,
                check=True,
                timeout=timeout_s,
            )
            with open(f.name) as written:
                part = json.load(written)
        for key, value in part.items():
            merged[key].update(value)
    return merged


if __name__ == "__main__":
    main()
