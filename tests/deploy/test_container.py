"""The Deployment's capability set and seccomp profile, proven on this host.

No container engine is needed: ``tests.deploy.contained`` drops every capability the
Deployment does not add and loads deploy/seccomp/toolpool.json, then runs the real
server and CLI. The sandbox must confine (its self-test must pass) and serve; without
any one of the capabilities it must refuse to start; and the profile must refuse what
it claims to refuse. These need root, as the server does in production; they never skip.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest

from tests.deploy.conftest import PROFILE, REPO, container_capabilities
from tests.integration.harness import ORCH_TOKEN, TOOLS, write_config
from worker.client import ToolpoolClient

pytestmark = pytest.mark.system  # the image's commands in subprocesses

TOOL = "def start_function(conv):\n    return 'hi'\n\n\ndef spin(conv):\n    while True:\n        pass\n"


def contained(caps: list[str], *command: str) -> list[str]:
    return [sys.executable, "-m", "tests.deploy.contained", ",".join(caps), str(PROFILE), "--", *command]


def run_cli(caps: list[str], tool: Path, function: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        contained(caps, sys.executable, "-m", "worker.cli", "run", str(tool), function, *extra),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_runs_as_root_like_the_container():
    assert os.geteuid() == 0, "the server runs as uid 0 with six capabilities; so must this test"


def test_the_cli_confines_and_kills_with_only_the_deployments_capabilities(tmp_path):
    tool = tmp_path / "tool.py"
    tool.write_text(TOOL)
    caps = container_capabilities()
    ok = run_cli(caps, tool, "start_function", "--verbose")  # --verbose: the sandbox's start-up log lines
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert json.loads(ok.stdout)["status"] == "ok"
    assert "self-test passed" in ok.stderr
    killed = run_cli(caps, tool, "spin", "--deadline-ms", "300")
    assert json.loads(killed.stdout)["status"] == "timeout", killed.stderr[-3000:]


@pytest.mark.parametrize("missing", ["SYS_ADMIN", "SETUID", "SETGID", "SETPCAP", "SYS_CHROOT", "KILL"])
def test_each_capability_is_needed(tmp_path, missing):
    caps = container_capabilities()
    assert missing in caps
    tool = tmp_path / "tool.py"
    tool.write_text(TOOL)
    done = run_cli([c for c in caps if c != missing], tool, "spin", "--deadline-ms", "300")
    # Refused at start-up (exit 3, naming the feature), or unable to kill its child.
    assert done.returncode != 0 and '"status": "timeout"' not in done.stdout, (missing, done.stdout, done.stderr)


@pytest.mark.serial  # counts deadline kills exactly; under parallel load the count once differed
def test_the_server_serves_and_drains_inside_the_profile(tmp_path):
    config = write_config(tmp_path, metrics={"enabled": True, "port": 0})
    env = {**os.environ, "HOME": str(tmp_path), "TOOLPOOL_LOG_FORMAT": "json"}
    env.pop("TOOLPOOL_TOKEN", None)
    stderr_path = tmp_path / "server.log"
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            contained(container_capabilities(), sys.executable, "-m", "worker.cli", "serve", "--config", str(config)),
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        try:
            line = proc.stdout.readline()
            assert line, stderr_path.read_text()
            port = json.loads(line)["port"]
            with ToolpoolClient(f"127.0.0.1:{port}", ORCH_TOKEN) as client:
                version = client.deploy("acme", {"tools.py": TOOLS}).version_id
                client.set_secret("acme", "k", "contained-secret")
                statuses = [
                    client.execute("acme", fn, version_id=version, args=args, deadline_ms=deadline).status.value
                    for fn, args, deadline in [
                        ("start_function", {}, None),
                        ("boom", {}, None),
                        ("spin", {}, 300),
                        ("secret_length", {"name": "k"}, None),
                    ]
                ]
            assert statuses == ["ok", "runtime_error", "timeout", "ok"]
            metrics_port = _metrics_port(stderr_path)
            body = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
            assert 'toolpool_sandbox_kills_total{reason="deadline"} 1.0' in body
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0, stderr_path.read_text()[-3000:]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _metrics_port(log_path: Path) -> int:
    for line in log_path.read_text().splitlines():
        entry = json.loads(line)
        if entry.get("event") == "metrics_serving":
            return int(entry["metrics_port"])
    raise AssertionError(f"no metrics_serving line in\n{log_path.read_text()}")


PROBE = textwrap.dedent("""
    import ctypes, errno, json, socket
    libc = ctypes.CDLL(None, use_errno=True)
    def call(nr, *args):
        result = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
        return 0 if result >= 0 else errno.errorcode[ctypes.get_errno()]
    def make_socket(family, kind):
        try:
            socket.socket(family, kind).close()
            return 0
        except OSError as exc:
            return errno.errorcode[exc.errno]
    print(json.dumps({
        "unshare_user": call(272, 0x10000000),       # unshare(CLONE_NEWUSER)
        "unshare_pid": call(272, 0x20000000),        # unshare(CLONE_NEWPID)
        "unshare_uts": call(272, 0x04000000),        # allowed: the template's kind
        "setns": call(308, -1, 0),
        "clone3": call(435, 0, 0),
        "keyctl": call(250, 0, 0),
        "bpf": call(321, 0, 0, 0),
        "ptrace": call(101, 0, 0, 0, 0),
        "kexec_load": call(246, 0, 0, 0, 0),
        "open_by_handle_at": call(304, -1, 0, 0),
        "io_uring_setup": call(425, 1, 0),
        "prlimit64_other": call(302, 1, 7, 0, 0),
        "socket_packet": make_socket(17, socket.SOCK_RAW),   # AF_PACKET
        "socket_alg": make_socket(38, socket.SOCK_SEQPACKET),  # AF_ALG
        "socket_inet": make_socket(socket.AF_INET, socket.SOCK_STREAM),
    }))
""")


def test_the_profile_refuses_what_it_says_it_refuses():
    done = subprocess.run(
        contained(container_capabilities(), sys.executable, "-c", PROBE),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen.pop("unshare_uts") == 0 and seen.pop("socket_inet") == 0  # allowed, and the filter is live
    assert seen.pop("clone3") == "ENOSYS"  # so that glibc falls back to clone, whose flags are checked
    assert seen == dict.fromkeys(seen, "EPERM"), seen
