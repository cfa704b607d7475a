"""The spawn-per-call baseline: a fresh ``python -I bench/spawn_child.py`` per call, with rlimits.

How Piston-style runners and edX codejail (without its sudo, user and AppArmor: the
``codejail`` driver, bench/codejail_driver.py, runs the real one) work, cheaper than real.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil

from bench.driver_base import Driver, Prepared, reply_status
from bench.workloads import Call


class SpawnDriver(Driver):
    """A fresh ``python -I bench/spawn_child.py`` per call, rlimits set by the child first.

    The child receives the same frame a pool child does (the marshaled RestrictedPython
    code and the request), so it runs the same tool through the same runtime. The parent
    enforces the deadline with communicate(timeout) and SIGKILL, like codejail.
    """

    name = "spawn"
    threads = 32
    CHILD = str(Path(__file__).resolve().parent / "spawn_child.py")

    def start(self) -> None:
        super().start()
        self._prep = Prepared()

    def call(self, call: Call) -> str:
        prepared = self._prep.prepared(call)
        proc = subprocess.Popen(
            [sys.executable, "-I", self.CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={},
            cwd="/",
            close_fds=True,
        )
        try:
            out, _ = proc.communicate(self._prep.frame(call), timeout=prepared.deadline.budget_ms / 1000.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return "timeout"
        if proc.returncode == 3:
            return "memory_limit"
        if proc.returncode != 0 or not out:
            return "internal_error" if proc.returncode >= 0 else "killed"
        return reply_status(json.loads(out))

    def outside_cpu_s(self) -> float:
        # The children are reaped by this process: their CPU is our children_* times.
        t = psutil.Process().cpu_times()
        return t.children_user + t.children_system

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "child": f"{sys.executable} -I bench/spawn_child.py",
            "limits": "RLIMIT_AS, RLIMIT_CPU (soft<hard), RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_CORE=0",
        }
