"""The README's demo command works: a real server, a real deploy, real confined calls."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.system  # `toolpool demo` in a subprocess


def test_demo_runs_against_a_real_server(tmp_path):
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path))
    env.pop("TOOLPOOL_TOKEN", None)
    proc = subprocess.run(
        [sys.executable, "-m", "worker.cli", "demo", "--once", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "Welcome to London Bridge. How can I help you today?" in out
    assert "[REDACTED]" in out and "sk-demo-0123456789" not in out
    assert '"status": "timeout"' in out
    assert "refused at deploy time" in out
    assert (tmp_path / "toolpool" / "toolpool.db").exists()
