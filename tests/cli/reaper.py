"""Runs a command as a child subreaper and writes down the processes it left behind.

    python tests/cli/reaper.py REPORT.json COMMAND [ARG...]

Orphans of COMMAND (a pool's template, a confined child) are re-parented to this process
instead of init, so after COMMAND exits whatever is still alive below us was left behind
by it. Waits up to 5 s for them to go (a template exits once it sees its pool's socket
close), writes ``{"left": [[pid, cmdline], ...]}`` to REPORT.json, kills what is left and
exits with COMMAND's exit code. Standalone: it imports nothing of toolpool.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import time

import psutil

PR_SET_CHILD_SUBREAPER = 36
GRACE_S = 5.0


def reap_zombies() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def alive_descendants() -> list[psutil.Process]:
    alive = []
    for process in psutil.Process().children(recursive=True):
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


def main() -> int:
    report, command = sys.argv[1], sys.argv[2:]
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    code = subprocess.call(command)
    deadline = time.monotonic() + GRACE_S
    while True:
        reap_zombies()
        left = alive_descendants()
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    with open(report, "w") as handle:
        json.dump({"left": [[p.pid, " ".join(p.cmdline())] for p in left]}, handle)
    for process in left:
        process.kill()
    return code


if __name__ == "__main__":
    sys.exit(main())
