"""``toolpool run`` as an author uses it: a summary on a terminal, JSON on a pipe, secrets
from conv.json, a file and flags, ``--watch``, and one-line errors with their exit codes."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.helpers import TOOLPOOL, toolpool, user_env

TOOL = """\
def greet(conv, name="you"):
    conv.state.greeted = name
    log.warning("about to greet")
    return {"utterance": f"Hello {name}, key {conv.utils.get_secret('k')[:3]}"}

def boom(conv):
    raise ValueError("no luck")
"""


@pytest.fixture()
def work(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "tool.py").write_text(TOOL)
    return user_env(home), tmp_path


def run_in_terminal(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60) -> tuple[int, str]:
    """Runs ``toolpool ARGS`` with stdout and stderr on a pseudo-terminal, as a person would."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec at once
        os.chdir(cwd)
        os.execve(TOOLPOOL, [TOOLPOOL, *args], env)
    output = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode()


def test_a_terminal_gets_a_coloured_summary_and_a_pipe_gets_json(work):
    env, cwd = work
    code, shown = run_in_terminal(["run", "tool.py", "greet", "--secret", "k=sk-abcdef"], env, cwd)
    assert code == 0, shown
    assert "\x1b[" in shown  # colour
    for part in (
        "ok",
        "tool.py greet",
        "action",
        'utterance  "Hello you, key sk-"',
        "state changes",
        '+ greeted = "you"',
        "logs",
        "about to greet",
        "ms wall",
    ):
        assert part in shown, (part, shown)
    with pytest.raises(json.JSONDecodeError):
        json.loads(shown)

    env_plain = dict(env, NO_COLOR="1")
    code, shown = run_in_terminal(["run", "tool.py", "boom"], env_plain, cwd)
    assert code == 1 and "\x1b[" not in shown
    assert "runtime_error" in shown and "ValueError: no luck" in shown

    piped = toolpool("run", "tool.py", "greet", "--secret", "k=sk-abcdef", env=env, cwd=cwd)
    assert piped.returncode == 0 and json.loads(piped.stdout)["status"] == "ok"
    code, shown = run_in_terminal(["run", "tool.py", "greet", "--secret", "k=sk-abcdef", "--json"], env, cwd)
    assert code == 0 and json.loads(shown)["status"] == "ok"


def test_secrets_from_conv_then_file_then_flags(work):
    env, cwd = work
    (cwd / "conv.json").write_text(json.dumps({"secrets": {"k": "conv-secret"}}))
    (cwd / "secrets.json").write_text(json.dumps({"k": "file-secret"}))

    def greeting(*flags: str) -> str:
        done = toolpool("run", "tool.py", "greet", "--conv", "conv.json", *flags, env=env, cwd=cwd)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["action"]["utterance"]

    assert greeting() == "Hello you, key con"
    assert greeting("--secrets-file", "secrets.json") == "Hello you, key fil"
    assert greeting("--secrets-file", "secrets.json", "--secret", "k=flag-secret") == "Hello you, key fla"


def test_args_and_exit_codes(work):
    env, cwd = work
    (cwd / "args.json").write_text(json.dumps({"name": "Ada"}))
    done = toolpool("run", "tool.py", "greet", "--args", "args.json", "--secret", "k=xyz1", env=env, cwd=cwd)
    assert done.returncode == 0 and json.loads(done.stdout)["state"] == {"greeted": "Ada"}
    failed = toolpool("run", "tool.py", "boom", env=env, cwd=cwd)
    assert failed.returncode == 1 and json.loads(failed.stdout)["error"]["kind"] == "ValueError"
    (cwd / "broken.py").write_text("def f(conv):\n    return (\n")
    refused = toolpool("run", "broken.py", "f", env=env, cwd=cwd)
    assert refused.returncode == 1 and json.loads(refused.stdout)["status"] == "compile_error"


@pytest.mark.parametrize(
    "args, expected",
    [
        (["run", "tool.py", "nope"], "toolpool run: tool.py has no function 'nope'; it defines: boom, greet"),
        (["run", "missing.py", "f"], "toolpool run: missing.py: no such file"),
        (["run", "tool.py", "greet", "--conv", "nothere.json"], "toolpool run: --conv nothere.json: No such file"),
        (["run", "tool.py", "greet", "--conv", "bad.json"], "toolpool run: --conv bad.json: line 1 column 2"),
        (["run", "tool.py", "greet", "--conv", "list.json"], "toolpool run: --conv list.json: must be a JSON object"),
        (["run", "tool.py", "greet", "--secret", "novalue"], "toolpool run: --secret 'novalue': expected NAME=VALUE"),
        (["run", "tool.py", "greet", "--secrets-file", "list.json"], "toolpool run: --secrets-file list.json: must be"),
        (["run", "tool.py", "greet", "--bogus"], "toolpool run: No such option '--bogus'"),
        (["run", "tool.py"], "toolpool run: Missing argument 'FUNCTION'. (see `toolpool run --help`)"),
        (
            ["run", "tool.py", "greet", "--conv", "badstate.json"],
            "toolpool run: --conv badstate.json: conv.state: must be a dict, got list",
        ),
        (
            ["run", "tool.py", "greet", "--allow-host", "http://127.0.0.1:8080"],
            "toolpool run: --allow-host http://127.0.0.1:8080: 127.0.0.1 is a loopback address, and --allow-host takes "
            "DNS names; use --allow-address 127.0.0.1:8080",
        ),
        (
            ["run", "tool.py", "greet", "--allow-host", "https://10.0.0.5"],
            "toolpool run: --allow-host https://10.0.0.5: 10.0.0.5 is a private address, and --allow-host takes DNS "
            "names; use --allow-address 10.0.0.5",
        ),
        (
            ["run", "tool.py", "greet", "--allow-host", "http://[::1]:9000"],
            "toolpool run: --allow-host http://[::1]:9000: ::1 is a loopback address, and --allow-host takes DNS names; "
            "use --allow-address [::1]:9000",
        ),
        (
            ["run", "tool.py", "greet", "--allow-host", "http://localhost:8080"],
            "toolpool run: --allow-host http://localhost:8080: localhost is this machine's loopback, which a host rule "
            "never reaches; use --allow-address 127.0.0.1:8080",
        ),
        (["run", "tool.py", "greet", "--allow-address", "localhost"], "toolpool run: egress: 'localhost' is not an"),
        (["nosuchcommand"], "toolpool: No such command 'nosuchcommand'."),
    ],
)
def test_bad_input_is_one_line_and_exit_2(work, args, expected):
    env, cwd = work
    (cwd / "bad.json").write_text("{,}")
    (cwd / "list.json").write_text("[1]")
    (cwd / "badstate.json").write_text(json.dumps({"state": [1]}))
    done = toolpool(*args, env=env, cwd=cwd)
    assert done.returncode == 2, done.stdout + done.stderr
    line = done.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in done.stderr, done.stderr
    assert line.startswith(expected), line
    assert done.stdout == ""


@pytest.mark.serial  # signal timing: under parallel load the Ctrl-C once ended the watch with exit 2
def test_watch_runs_again_on_save_and_stops_cleanly_on_ctrl_c(work):
    env, cwd = work
    (cwd / "w.py").write_text("def f(conv):\n    return 'one'\n")
    process = subprocess.Popen(
        [TOOLPOOL, "run", "w.py", "f", "--watch", "--json"],
        cwd=cwd,
        env={**env, "PYTHONFAULTHANDLER": "1"},  # SIGABRT writes every thread's stack (below)
        # As from a terminal: a runner (an xdist worker, CI) may ignore SIGINT, and a child
        # inherits that, so Python would never raise KeyboardInterrupt.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert json.loads(process.stdout.readline())["action"] == {"content": "one"}
        time.sleep(0.1)
        (cwd / "w.py").write_text("def f(conv):\n    return 'two, after a save'\n")
        assert json.loads(process.stdout.readline())["action"] == {"content": "two, after a save"}
        (cwd / "w.py").write_text("def f(conv):\n    return (\n")
        assert json.loads(process.stdout.readline())["status"] == "compile_error"
        (cwd / "w.py").write_text("def g(conv):\n    return 1\n")  # f is gone: one line on stderr, still watching
        time.sleep(1.0)
        assert process.poll() is None
        (cwd / "w.py").write_text("def f(conv):\n    return 'three'\n")
        assert json.loads(process.stdout.readline())["action"] == {"content": "three"}
        os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole process group
        try:
            code = process.wait(30)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)  # faulthandler: where every thread is stuck
            process.wait(10)
            pytest.fail(f"no exit 30 s after Ctrl-C; its threads:\n{process.stderr.read()[-8000:]}")
        assert code == 0
        errors = process.stderr.read()
        assert errors.strip() == "toolpool run: w.py has no function 'f'; it defines: g", errors
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.stdout.close()
        process.stderr.close()
