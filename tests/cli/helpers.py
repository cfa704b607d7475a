"""Running the installed ``toolpool`` command as a new user would: a private HOME, no
TOOLPOOL_* variables, the working directory of their choosing; and a real server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TOOLPOOL = str(BIN / "toolpool")
REAPER = Path(__file__).resolve().parent / "reaper.py"


def user_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a new user: HOME of their own, nothing of toolpool's set."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("TOOLPOOL_") and k not in ("XDG_STATE_HOME", "NO_COLOR")
    }
    env.update(HOME=str(home), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", **extra)
    return env


def toolpool(
    *args: str, env: dict[str, str], cwd: Path, stdin: str | None = None, timeout: float = 90
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TOOLPOOL, *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=timeout
    )


def toolpool_reaped(
    *args: str, env: dict[str, str], cwd: Path, report: Path, timeout: float = 90
) -> tuple[subprocess.CompletedProcess, list]:
    """``toolpool`` run under tests/cli/reaper.py: also returns the processes it left behind."""
    done = subprocess.run(
        [sys.executable, str(REAPER), str(report), TOOLPOOL, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done, json.loads(report.read_text())["left"]


def one_line_error(done: subprocess.CompletedProcess, command: str) -> str:
    """The single stderr line of a failed command, checked to be one line without a traceback."""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert lines[0].startswith(f"toolpool {command}: "), lines[0]
    return lines[0]


@dataclass
class Served:
    process: subprocess.Popen
    target: str
    env: dict[str, str]

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(30)
        finally:
            self.process.stdout.close()
            self.process.stderr.close()


def serve(env: dict[str, str], cwd: Path, *args: str) -> Served:
    """``toolpool serve --port 0`` as a user starts it; on a pipe it announces itself in JSON."""
    process = subprocess.Popen(
        [TOOLPOOL, "serve", "--port", "0", *args],
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    line = process.stdout.readline()
    if not line:
        process.wait(30)
        raise AssertionError(f"toolpool serve did not start: {process.stderr.read()[-3000:]}")
    announced = json.loads(line)
    target = f"127.0.0.1:{announced['port']}"
    return Served(process, target, dict(env, TOOLPOOL_TARGET=target))
