"""The spawn-per-call baseline's child: ``python -I bench/spawn_child.py``, one call, exit.

How edX codejail and Piston-style runners work: a fresh interpreter per call, limited by
rlimits. This child first lowers its own rlimits (before it reads any tenant code: the
same effect as codejail's preexec_fn, without a preexec_fn in the threaded bench), arms
its own deadline timer, then reads the frame a pool child would get on stdin (marshaled
RestrictedPython code and request JSON), runs it with sandbox.child.entry.run_request
(the same runtime as toolpool's children) and writes the reply JSON on stdout.

It has no namespaces, seccomp or uid drop: it is a cheaper-than-real baseline.
"""

import json
import marshal
import os
import resource
import signal
import sys


def _limit(which, soft, hard=None):
    resource.setrlimit(which, (soft, soft if hard is None else hard))


def main():
    frame = sys.stdin.buffer.read()
    code, request = marshal.loads(frame)
    limits = request["limits"]
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_FSIZE, limits["file_size_bytes"])
    _limit(resource.RLIMIT_NOFILE, limits["open_files"])
    # Soft below hard: an overrun is a distinct SIGXCPU before the kernel's SIGKILL.
    _limit(resource.RLIMIT_CPU, limits["cpu_seconds"], limits["cpu_seconds"] + 1)
    from sandbox.child.entry import prepare_process, run_request  # the runtime, before the limit on memory

    prepare_process()

    _limit(resource.RLIMIT_AS, limits["memory_bytes"])
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.setitimer(signal.ITIMER_REAL, max(request["deadline_ms"], 1) / 1000.0)
    try:
        reply = run_request(request, code)
        out = json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode()
    except MemoryError:
        os._exit(3)
    signal.setitimer(signal.ITIMER_REAL, 0)
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
