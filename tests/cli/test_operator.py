"""The operator's commands against a real server: secrets from stdin or a no-echo prompt,
listings on a terminal and a pipe, refusals as one line with what to do, the help of
--target, shell completion, and ``./dev.sh demo`` keeping its state in the checkout."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.helpers import REPO, TOOLPOOL, one_line_error, serve, toolpool, user_env

TOOL = "def hello(conv):\n    return 'hi ' + conv.utils.get_secret('token')[:2]\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    work = tmp_path_factory.mktemp("work")
    served = serve(user_env(home), work)
    yield served, work
    assert served.stop() == 0


def converse(
    args: list[str], env: dict[str, str], cwd: Path, answer: str | None = None, timeout: float = 60
) -> tuple[int, str]:
    """Runs ``toolpool ARGS`` on a pseudo-terminal; types ``answer`` at the first prompt."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        os.execve(TOOLPOOL, [TOOLPOOL, *args], env)
    output, answered = b"", answer is None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"(not shown): " in output:
            os.write(fd, answer.encode() + b"\r")
            answered = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode()


def test_a_secret_typed_at_a_prompt_is_not_echoed_and_reaches_the_tool(server):
    served, work = server
    code, screen = converse(["secret", "set", "--tenant", "ops", "token"], served.env, work, answer="zz-typed-value")
    assert code == 0, screen
    assert "value of secret token (not shown): " in screen
    assert "zz-typed-value" not in screen
    assert "secret token set for tenant ops" in screen
    (work / "hello.py").write_text(TOOL)
    toolpool("deploy", "--tenant", "ops", "--alias", "live", "hello.py", env=served.env, cwd=work)
    called = toolpool("call", "--tenant", "ops", "--alias", "live", "hello", env=served.env, cwd=work)
    assert json.loads(called.stdout)["action"] == {"content": "hi zz"}


def test_secret_value_from_stdin_or_argument_then_list_and_delete(server):
    served, work = server
    env = served.env
    assert toolpool("secret", "set", "--tenant", "ops2", "a", stdin="from-stdin\n", env=env, cwd=work).returncode == 0
    done = toolpool("secret", "set", "--tenant", "ops2", "b", "from-argument", env=env, cwd=work)
    assert json.loads(done.stdout) == {"tenant": "ops2", "name": "b", "created": True}
    empty = toolpool("secret", "set", "--tenant", "ops2", "c", stdin="", env=env, cwd=work)
    assert empty.returncode == 2 and "the value is empty" in one_line_error(empty, "secret set")
    listed = toolpool("secret", "list", "--tenant", "ops2", env=env, cwd=work)
    assert json.loads(listed.stdout)["names"] == ["a", "b"]
    assert "from-" not in listed.stdout
    code, screen = converse(["secret", "list", "--tenant", "ops2"], env, work)
    assert code == 0 and screen.split() == ["a", "b"]
    deleted = toolpool("secret", "delete", "--tenant", "ops2", "a", env=env, cwd=work)
    assert json.loads(deleted.stdout)["deleted"] is True
    again = toolpool("secret", "delete", "--tenant", "ops2", "a", "--json", env=env, cwd=work)
    assert again.returncode == 0 and json.loads(again.stdout)["deleted"] is False


def test_listings_on_a_terminal_are_tables(server):
    served, work = server
    (work / "t.py").write_text("def start_function(conv):\n    return 'x'\n")
    deployed = toolpool("deploy", "--tenant", "tables", "--alias", "live", "t.py", env=served.env, cwd=work)
    version = json.loads(deployed.stdout)["version_id"]
    env = dict(served.env, NO_COLOR="1")
    code, screen = converse(["aliases", "--tenant", "tables"], env, work)
    assert code == 0
    header, row = screen.strip().splitlines()
    assert header.split() == ["ALIAS", "VERSION", "CREATED", "FUNCTIONS"]
    assert row.split()[:2] == ["live", version[:12]] and row.split()[-1] == "start_function"
    code, screen = converse(["versions", "--tenant", "tables"], env, work)
    assert screen.strip().splitlines()[0].split() == ["VERSION", "CREATED", "FUNCTIONS", "ALIASES"]
    code, screen = converse(["aliases", "--tenant", "nobody"], env, work)
    assert "tenant nobody has nothing deployed yet: `toolpool deploy --tenant nobody --alias live tool.py`" in screen


def test_refusals_say_what_to_do(server):
    served, work = server
    env = served.env
    wrong = toolpool("versions", "--tenant", "x", "--token", "not-a-token", env=env, cwd=work)
    assert wrong.returncode == 2
    assert "UNAUTHENTICATED" in one_line_error(wrong, "versions") and "use a token this server knows" in wrong.stderr
    alias = toolpool("call", "--tenant", "x", "--alias", "nope", "f", env=env, cwd=work)
    assert alias.returncode == 2
    assert "`toolpool aliases --tenant x` lists the aliases there are" in one_line_error(alias, "call")
    (work / "refused.py").write_text("import os\n")
    refused = toolpool("deploy", "--tenant", "x", "refused.py", env=env, cwd=work)
    assert refused.returncode == 1 and json.loads(refused.stdout)["compile_errors"][0]["line"] == 1
    code, screen = converse(["deploy", "--tenant", "x", "refused.py"], dict(env, NO_COLOR="1"), work)
    assert code == 1 and screen.startswith("refused.py, line 1: import of 'os' is not allowed")
    hint = toolpool("egress", "set", "--tenant", "x", "--allow-host", "http://192.168.1.20:8080", env=env, cwd=work)
    assert hint.returncode == 2
    assert one_line_error(hint, "egress set").endswith("use --allow-address 192.168.1.20:8080")


def test_without_a_token_the_error_says_where_one_comes_from(tmp_path):
    env = user_env(tmp_path)
    done = toolpool("versions", "--tenant", "acme", env=env, cwd=tmp_path)
    assert done.returncode == 2
    line = one_line_error(done, "versions")
    assert "set TOOLPOOL_TOKEN or give --token-file" in line
    assert str(tmp_path / ".local/state/toolpool/dev-token") in line
    moved = toolpool(
        "versions", "--tenant", "acme", env=dict(env, TOOLPOOL_STATE_DIR=str(tmp_path / "s")), cwd=tmp_path
    )
    assert str(tmp_path / "s" / "dev-token") in moved.stderr


@pytest.mark.parametrize("command", ["deploy", "call", "versions", "aliases", "secret set", "egress get"])
def test_target_is_explained_in_every_client_commands_help(tmp_path, command):
    done = toolpool(*command.split(), "--help", env=user_env(tmp_path), cwd=tmp_path)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "--target ADDR The server: HOST:PORT, or dns:///NAME:PORT" in text
    assert "env var: TOOLPOOL_TARGET" in text and "default: localhost:50051" in text


def test_secret_set_help_says_the_value_need_not_be_on_the_command_line(tmp_path):
    done = toolpool("secret", "set", "--help", env=user_env(tmp_path), cwd=tmp_path)
    assert "never sits in shell history" in " ".join(done.stdout.split())


def test_bash_completion_completes_commands_subcommands_and_functions(tmp_path):
    if shutil.which("bash") is None:
        pytest.fail("bash is needed to check bash completion")
    env = user_env(tmp_path)
    (tmp_path / "tool.py").write_text("def start_function(conv):\n    pass\n\ndef lookup(conv):\n    pass\n")
    script = toolpool("completion", "bash", env=env, cwd=tmp_path).stdout
    (tmp_path / "completion.bash").write_text(script)
    probe = """
source completion.bash
complete_words() { COMPREPLY=(); COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _toolpool_completion toolpool; echo "${COMPREPLY[*]}"; }
complete_words toolpool se
complete_words toolpool secret ''
complete_words toolpool run tool.py ''
"""
    done = subprocess.run(["bash", "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines() == ["serve secret", "set delete list rotate-key", "start_function lookup"], (
        done.stdout + done.stderr
    )


def test_zsh_completion_script_and_protocol(tmp_path):
    env = user_env(tmp_path)
    script = toolpool("completion", "zsh", env=env, cwd=tmp_path).stdout
    assert script.startswith("#compdef toolpool") and "_TOOLPOOL_COMPLETE=zsh_complete" in script
    # What the script asks the program, answered as zsh reads it: type, value, description.
    done = subprocess.run(
        [TOOLPOOL],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(env, _TOOLPOOL_COMPLETE="zsh_complete", COMP_WORDS="toolpool ali", COMP_CWORD="1"),
    )
    assert done.stdout.splitlines()[:2] == ["plain", "aliases"]


def test_dev_sh_demo_keeps_its_state_inside_the_checkout(tmp_path):
    """dev.sh run from a copy of the checkout writes its database and token there. The copy's
    .venv is a directory of links to this one's programs with a matching install stamp, so
    dev.sh installs nothing (and can never reinstall the real .venv)."""
    checkout = tmp_path / "checkout"
    (checkout / ".venv" / "bin").mkdir(parents=True)
    for name in ("dev.sh", "pyproject.toml"):
        shutil.copy2(REPO / name, checkout / name)
    for program in ("python", "toolpool"):
        (checkout / ".venv" / "bin" / program).symlink_to(Path(TOOLPOOL).with_name(program))
    stamp = hashlib.sha256((checkout / "pyproject.toml").read_bytes()).hexdigest()
    (checkout / ".venv" / ".installed").write_text(stamp + "\n")
    env = user_env(tmp_path / "home")
    done = subprocess.run(
        ["bash", "dev.sh", "demo", "--once", "--port", "0"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (checkout / ".state" / "toolpool.db").exists() and (checkout / ".state" / "dev-token").exists()
    assert not (tmp_path / "home" / ".local" / "state").exists()
    assert ".state/" in (REPO / ".gitignore").read_text().splitlines()
