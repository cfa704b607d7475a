"""`toolpool serve`, `toolpool deploy` and `toolpool call` as an operator runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.integration.harness import REPO, TOOLS


def toolpool(*args: str, env: dict[str, str], check_code: int | None = 0) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "worker.cli", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    if check_code is not None:
        assert done.returncode == check_code, (done.returncode, done.stdout, done.stderr)
    return done


@pytest.fixture()
def served(tmp_path):
    """`toolpool serve` on its embedded defaults, with a private HOME and a free port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOOLPOOL_") and k != "XDG_STATE_HOME"}
    env["HOME"] = str(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "serve", "--port", "0"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    assert line, proc.stderr.read()
    announced = json.loads(line)
    env["TOOLPOOL_TARGET"] = f"127.0.0.1:{announced['port']}"
    yield env, tmp_path
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    log = proc.stderr.read()
    assert "configuration:" in log and "dev-token" in log
    token = (tmp_path / ".local/state/toolpool/dev-token").read_text().strip()
    assert token not in log  # the configuration is logged without secrets


def test_deploy_then_call_prints_what_run_prints(served):
    env, home = served
    tools = home / "tools"
    tools.mkdir()
    (tools / "tools.py").write_text(TOOLS)
    conv = home / "conv.json"
    conv.write_text(json.dumps({"state": {"n": 1}, "env": "live"}))
    args = home / "args.json"
    args.write_text(json.dumps({"a": 2, "b": 3}))

    deployed = json.loads(toolpool("deploy", "--tenant", "acme", "--alias", "latest", str(tools), env=env).stdout)
    assert deployed["version_id"] and "add" in deployed["functions"]

    called = toolpool(
        "call", "--tenant", "acme", "--alias", "latest", "add", "--conv", str(conv), "--args", str(args), env=env
    )
    ran = toolpool("run", str(tools / "tools.py"), "add", "--conv", str(conv), "--args", str(args), env=env)
    via_service, local = json.loads(called.stdout), json.loads(ran.stdout)
    assert via_service.keys() == local.keys()
    for key in ("status", "action", "state", "state_changes", "logs", "error"):
        assert via_service[key] == local[key], key
    assert via_service["state"] == {"n": 1, "total": 5}

    by_version = toolpool("call", "--tenant", "acme", "--version", deployed["version_id"], "start_function", env=env)
    assert json.loads(by_version.stdout)["status"] == "ok"


def test_exit_codes(served):
    env, home = served
    (home / "tools.py").write_text(TOOLS)
    toolpool("deploy", "--tenant", "acme", "--alias", "latest", str(home / "tools.py"), env=env)
    failed = toolpool("call", "--tenant", "acme", "--alias", "latest", "boom", env=env, check_code=1)
    assert json.loads(failed.stdout)["status"] == "runtime_error"
    missing = toolpool("call", "--tenant", "acme", "--alias", "latest", "nope", env=env, check_code=2)
    assert "NOT_FOUND [FUNCTION_NOT_FOUND]" in missing.stderr
    (home / "bad.py").write_text("def f(conv):\n    return (\n")
    refused = toolpool("deploy", "--tenant", "acme", str(home / "bad.py"), env=env, check_code=1)
    assert json.loads(refused.stdout)["compile_errors"][0]["file"] == "bad.py"
    denied = toolpool(
        "call", "--tenant", "acme", "--alias", "latest", "boom", "--token", "wrong", env=env, check_code=2
    )
    assert "UNAUTHENTICATED" in denied.stderr
