"""Where the CPU of one fresh-mode call goes, phase by phase, in a real template's children.

    .venv/bin/python -m bench.child_cost [--n 200] [--json FILE]

Like bench/confine_cost.py, this process turns itself into a template (it re-execs with
an empty environment, imports what sandbox.template imports, runs prepare_template, which
changes ITS namespaces: never import it from another program), then forks children
that do exactly what a pool child does (confine_child, read a frame, lower the call's
rlimits, run_request, encode and write the reply) and time each phase with the CPU
clock and the count of minor page faults. The parent records the fork() call itself and
the child's total rusage from wait4, which includes the teardown at exit that no phase
inside the child can see.

Since baa7659 the template warms itself and every child runs one warm-up call after it
confines itself, before it is ready; the probe does the same (``Template._warm``), and a
variant without the child's warm-up shows what that moved off the critical path. The
critical path of a call is decode + call rlimits + run_request + encode; confine and the
warm-up happen while the child waits to be used; the teardown at exit (child total minus
the phases) happens after the answer.
"""

from __future__ import annotations

from sandbox.template import atfork

if __name__ == "__main__":
    atfork.forget()  # as sandbox.template does, before anything registers a hook

# Every import below comes after atfork.forget().
import argparse
import json
import marshal
import os
import resource
import sys
import time

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _reexec_clean() -> None:
    """Re-exec with an empty environment, as the pool starts the real template.

    ``-s`` and no ``-I``: the repository (the working directory) must stay importable for
    ``bench``; nothing else of the caller's environment is kept.
    """
    if set(os.environ) - {"LC_CTYPE"}:  # Python's locale coercion may set LC_CTYPE itself
        os.chdir(_REPO)
        os.execve(sys.executable, [sys.executable, "-s", "-m", "bench.child_cost", *sys.argv[1:]], {})


def _mark() -> tuple[float, int]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return (ru.ru_utime + ru.ru_stime) * 1e6, ru.ru_minflt


def _child(template, prepared, frame: bytes, w: int, warm: bool) -> None:
    from sandbox.child import entry
    from sandbox.confine.child_side import confine_child

    # The child's rusage starts at zero: its first mark is what fork's return and the
    # at-fork hooks cost it (the real template keeps the stdlib's hooks out: sandbox/template/atfork.py).
    marks = [("fork", 0.0, 0), ("after fork (at-fork hooks)", *_mark())]
    confine_child(prepared, uid=prepared.config.child_uid(1), keep_fds=[w], limits=template.limits)
    marks.append(("confine_child", *_mark()))
    if warm:
        template._warm()  # what sandbox.template does after confining, before the child is ready
    marks.append(("warm-up call", *_mark()))
    code, request = marshal.loads(frame)
    marks.append(("decode request", *_mark()))
    entry._apply_call_limits(request["limits"], 1)
    marks.append(("call rlimits", *_mark()))
    reply = entry.run_request(request, code)
    marks.append(("run_request", *_mark()))
    reply["usage"] = entry._usage()
    payload = entry._encode_reply(reply)
    marks.append(("encode reply", *_mark()))
    out = [
        (name, marks[i][1] - marks[i - 1][1], marks[i][2] - marks[i - 1][2]) for i, (name, *_r) in enumerate(marks) if i
    ]
    os.write(w, json.dumps({"phases": out, "reply_bytes": len(payload)}).encode())
    os._exit(0)


def measure(template, frame: bytes, n: int, warm: bool) -> dict:
    phases: dict[str, list[tuple[float, int]]] = {}
    fork_us, total_cpu_us, total_flt, wall_us = [], [], [], []
    for _ in range(n):
        r, w = os.pipe()
        t0 = time.perf_counter_ns()
        c0 = time.process_time_ns()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            _child(template, template.prepared, frame, w, warm)
        fork_us.append((time.process_time_ns() - c0) / 1000)
        os.close(w)
        data = b""
        while chunk := os.read(r, 65536):
            data += chunk
        os.close(r)
        _, _, ru = os.wait4(pid, 0)
        wall_us.append((time.perf_counter_ns() - t0) / 1000)
        total_cpu_us.append((ru.ru_utime + ru.ru_stime) * 1e6)
        total_flt.append(ru.ru_minflt)
        for name, us, flt in json.loads(data)["phases"]:
            phases.setdefault(name, []).append((us, flt))
    import statistics  # imports random: after atfork.forget()

    med = statistics.median
    return {
        "n": n,
        "fork_call_cpu_us_in_parent": med(fork_us),
        "child_total_cpu_us": med(total_cpu_us),
        "child_minor_faults": med(total_flt),
        "cycle_wall_us": med(wall_us),
        "phases": {
            name: {"cpu_us": med([v[0] for v in vals]), "minor_faults": med([v[1] for v in vals])}
            for name, vals in phases.items()
        },
    }


def main() -> None:
    _reexec_clean()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--json", help="write the figures here as JSON")
    args = parser.parse_args()

    import dataclasses
    import socket

    from bench import workloads
    from sandbox.compile.compiler import compile_bundle
    from sandbox.confine.config import ConfinementConfig
    from sandbox.policy import Limits
    from sandbox.supervisor.call import CallRequest, prepare, validate_input
    from sandbox.template import forkserver as template_mod

    bundle = compile_bundle(workloads.tool_files())
    frames = {}
    for call in (workloads.TRIVIAL, workloads.START):
        req = CallRequest(
            tenant=call.tenant,
            bundle=bundle,
            function=call.function,
            input=validate_input(call.conversation, call.args),
        )
        frames[call.label] = prepare(req).frame()
    json_file = open(args.json, "w") if args.json else None  # noqa: SIM115 - no filesystem after configure
    a, _b = socket.socketpair()
    template = template_mod.Template(a)
    from bench.procs import _template_extras

    template.configure(
        {
            "limits": dataclasses.asdict(Limits()),
            "confinement": dataclasses.asdict(ConfinementConfig()),
            **_template_extras(),
        }
    )
    # No /proc after configure (pivot_root): the peak RSS is the template's RSS here.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out = {"template_peak_rss_bytes": rss, "request_frame_bytes": {k: len(v) for k, v in frames.items()}}
    for label, frame in frames.items():
        out[f"fresh {label}"] = measure(template, frame, args.n, warm=hasattr(template, "_warm"))
    out["fresh start_function, no child warm-up"] = measure(template, frames["start_function"], args.n, warm=False)
    text = json.dumps(out, indent=1)
    if json_file is not None:
        with json_file:
            json_file.write(text)
    print(text)


if __name__ == "__main__":
    main()
