"""The first hour, with the CLI alone, as a new tool author and a new operator would (issue
17's "How it is checked"), and as the README's quick start walks it:

    toolpool --version
    toolpool init hello
    toolpool run hello/tool.py start_function --conv hello/conv.json --json     -> ok
    toolpool check hello/tool.py                                                 -> 0; a refused import -> 1, line 1
    toolpool serve                                                               (a busy port: one line, < 15 s)
    toolpool call ... (nothing listening)                                        -> "is `toolpool serve` running?"
    toolpool secret set / deploy --alias live / call --alias live                -> the tool used the secret
    toolpool call ... nope                                                       -> lists the functions there are
    toolpool aliases --tenant acme                                               -> live

Every command runs as a subprocess of the installed ``toolpool``, with a private HOME.
"""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import time

import pytest

from tests.cli.helpers import one_line_error, serve, toolpool, toolpool_reaped, user_env

SECRET = "sk-live-0123456789"

# Uses its secret, and shows exactly which value it got without putting it in the result.
SECRET_TOOL = """\
import hashlib

def key_fingerprint(conv):
    key = conv.utils.get_secret("crm_api_key")
    return {"content": hashlib.sha256(key.encode()).hexdigest()[:16]}
"""


@pytest.fixture()
def user(tmp_path):
    """A new user's home and working directory."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    return user_env(home), work


def test_version_and_help_list_every_command(user):
    env, work = user
    done = toolpool("--version", env=env, cwd=work)
    assert done.returncode == 0 and done.stdout.strip() == "toolpool 0.1.0"
    helped = toolpool("--help", env=env, cwd=work)
    assert helped.returncode == 0
    for command in (
        "init",
        "run",
        "check",
        "serve",
        "deploy",
        "call",
        "versions",
        "aliases",
        "secret",
        "egress",
        "demo",
        "completion",
    ):
        lines = [line for line in helped.stdout.splitlines() if line.strip().startswith(command + " ")]
        assert len(lines) == 1 and len(lines[0].split()) > 2, (command, helped.stdout)  # one line, with a description


def test_init_then_run_json_gives_ok_writes_nothing_and_leaves_no_process(user, tmp_path):
    env, work = user
    done = toolpool("init", "hello", env=env, cwd=work)
    assert done.returncode == 0, done.stderr
    made = {p.relative_to(work / "hello").as_posix() for p in (work / "hello").rglob("*")}
    assert {"tool.py", "conv.json", "args.json", "test_tool.py", ".vscode/settings.json", "pyrightconfig.json"} <= made
    before = sorted(p.as_posix() for p in work.rglob("*"))

    ran, left = toolpool_reaped(
        "run",
        "hello/tool.py",
        "start_function",
        "--conv",
        "hello/conv.json",
        "--json",
        env=env,
        cwd=work,
        report=tmp_path / "reaped.json",
    )
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    assert result["status"] == "ok"
    assert result["action"]["utterance"] == "Welcome to London Bridge. How can I help you today?"
    assert result["action"]["variant"] == "london"
    assert result["state_changes"]["set"] == {"calls": 1}
    assert "[REDACTED]" in result["logs"][0]["message"] and "sk-test" not in ran.stdout
    assert left == [], f"processes left behind: {left}"
    assert sorted(p.as_posix() for p in work.rglob("*")) == before  # nothing written where it ran

    with_args = toolpool(
        "run",
        "hello/tool.py",
        "opening_hours",
        "--conv",
        "hello/conv.json",
        "--args",
        "hello/args.json",
        env=env,
        cwd=work,
    )
    assert json.loads(with_args.stdout)["action"] == {
        "content": "Tell the caller we are open from 9am to 1pm on Saturday."
    }


def test_init_refuses_a_directory_with_files(user):
    env, work = user
    (work / "mine").mkdir()
    (work / "mine" / "tool.py").write_text("precious = True\n")
    done = toolpool("init", "mine", env=env, cwd=work)
    assert done.returncode == 2 and "not an empty directory" in one_line_error(done, "init")
    assert (work / "mine" / "tool.py").read_text() == "precious = True\n"


def test_the_starters_own_tests_pass_with_pytest(user):
    env, work = user
    toolpool("init", "hello", env=env, cwd=work)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "hello"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "3 passed" in done.stdout


def test_check_names_line_1_of_a_refused_import_and_passes_a_good_tool(user):
    env, work = user
    toolpool("init", "hello", env=env, cwd=work)
    good = toolpool("check", "hello/tool.py", env=env, cwd=work)
    assert good.returncode == 0, good.stdout + good.stderr
    (work / "bad.py").write_text("import subprocess\n\ndef tool(conv):\n    return open('/etc/passwd').read()\n")
    bad = toolpool("check", "bad.py", env=env, cwd=work)
    assert bad.returncode == 1
    lines = bad.stdout.strip().splitlines()
    assert lines[0].startswith("bad.py, line 1: import of 'subprocess' is not allowed")
    assert lines[1].startswith("bad.py, line 4: 'open' is not available to tools")
    assert all("; " in line for line in lines)  # what is refused; what to do instead
    assert bad.stderr == ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_on_a_busy_port_says_so_in_one_line_quickly(user):
    env, work = user
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        done = toolpool("serve", "--port", str(port), env=env, cwd=work, timeout=30)
        elapsed = time.monotonic() - started
    assert done.returncode == 2
    line = one_line_error(done, "serve")
    assert line == f"toolpool serve: port {port} is in use: is another `toolpool serve` running? Use --port"
    assert elapsed < 15


def test_call_with_nothing_listening_asks_whether_the_server_runs(user):
    env, work = user
    port = free_port()
    done = toolpool(
        "call",
        "--tenant",
        "acme",
        "--alias",
        "live",
        "start_function",
        "--target",
        f"127.0.0.1:{port}",
        "--token",
        "any",
        env=env,
        cwd=work,
        timeout=60,
    )
    assert done.returncode == 4
    assert one_line_error(done, "call") == (
        f"toolpool call: no server at 127.0.0.1:{port}: is `toolpool serve` "
        "running there? Use --target (or TOOLPOOL_TARGET)"
    )


def test_secret_deploy_call_aliases_through_the_cli_alone(user):
    env, work = user
    toolpool("init", "hello", env=env, cwd=work)
    (work / "hello" / "keys.py").write_text(SECRET_TOOL)
    served = serve(env, work)
    env = served.env
    try:
        secret = toolpool("secret", "set", "--tenant", "acme", "crm_api_key", stdin=SECRET + "\n", env=env, cwd=work)
        assert secret.returncode == 0, secret.stderr
        assert SECRET not in secret.stdout + secret.stderr

        deployed = toolpool(
            "deploy", "--tenant", "acme", "--alias", "live", "hello/tool.py", "hello/keys.py", env=env, cwd=work
        )
        assert deployed.returncode == 0, deployed.stderr
        version = json.loads(deployed.stdout)["version_id"]

        called = toolpool("call", "--tenant", "acme", "--alias", "live", "key_fingerprint", env=env, cwd=work)
        assert called.returncode == 0, called.stderr
        fingerprint = hashlib.sha256(SECRET.encode()).hexdigest()[:16]
        assert json.loads(called.stdout)["action"] == {"content": fingerprint}  # the value set above, exactly

        greeted = toolpool(
            "call",
            "--tenant",
            "acme",
            "--alias",
            "live",
            "start_function",
            "--conv",
            "hello/conv.json",
            env=env,
            cwd=work,
        )
        assert greeted.returncode == 0, greeted.stderr
        assert json.loads(greeted.stdout)["status"] == "ok"

        missing = toolpool("call", "--tenant", "acme", "--alias", "live", "nope", env=env, cwd=work)
        assert missing.returncode == 2
        line = one_line_error(missing, "call")
        assert "has no function 'nope'" in line
        assert line.endswith("it defines: _site_called, key_fingerprint, opening_hours, start_function")

        aliases = toolpool("aliases", "--tenant", "acme", env=env, cwd=work)
        assert json.loads(aliases.stdout)["aliases"][0] | {"created": None} == {
            "alias": "live",
            "version_id": version,
            "created": None,
            "functions": ["_site_called", "key_fingerprint", "opening_hours", "start_function"],
        }
        versions = toolpool("versions", "--tenant", "acme", env=env, cwd=work)
        listed = json.loads(versions.stdout)["versions"]
        assert [(v["version_id"], v["aliases"], v["files"]) for v in listed] == [
            (version, ["live"], ["keys.py", "tool.py"])
        ]
        assert listed[0]["created"].endswith("Z")

        names = toolpool("secret", "list", "--tenant", "acme", env=env, cwd=work)
        assert json.loads(names.stdout) == {"tenant": "acme", "names": ["crm_api_key"]}
        assert SECRET not in names.stdout
    finally:
        assert served.stop() == 0
