"""Helpers for the integration tests: config files, tools, calls, a server subprocess.

Every test talks to a real server over a real channel with the generated stubs or
worker.client; nothing here fakes the service.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import grpc
import pytest

from worker._proto.toolpool.v1 import toolpool_pb2 as pb
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc
from worker.config import load_config
from worker.server import ToolpoolServer

REPO = Path(__file__).resolve().parents[2]

# Tokens of the test clients (the config file holds them in clear; tests only).
ORCH_TOKEN = "orch-token-0123456789"  # tenants acme and globex
ACME_TOKEN = "acme-token-0123456789"  # tenant acme only
GLOBEX_TOKEN = "globex-token-0123456789"  # tenant globex only

TOOLS = textwrap.dedent(
    """
    import time


    def start_function(conv):
        conv.state.greeted = True
        return "hello"


    def add(conv, a, b):
        conv.state.total = a + b
        return str(a + b)


    def count(conv):
        conv.state.n = (conv.state.n or 0) + 1
        return "counted"


    def slow(conv, ms=300):
        time.sleep(ms / 1000)
        return "slept"


    def spin(conv):
        while True:
            pass


    def boom(conv):
        raise ValueError("boom")


    def secret_length(conv, name):
        value = conv.utils.get_secret(name)
        log.info("secret is " + value)
        conv.state.length = len(value)
        return "ok"
    """
).lstrip()

BROKEN = {
    "good.py": "def fine(conv):\n    return 'ok'\n",
    "bad.py": "def broken(conv):\n    return (\n",
    "worse.py": "def sneaky(conv):\n    return conv.__globals__\n",
}


def config_text(db_path: Path, token_file: Path, **sections: dict[str, Any]) -> str:
    lines = ['host = "127.0.0.1"', "port = 0", f'db_path = "{db_path}"', f'token_file = "{token_file}"']
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{k} = {json.dumps(v)}" for k, v in values.items())
    for name, token, tenants in (
        ("orchestrator", ORCH_TOKEN, ["acme", "globex"]),
        ("acme-ui", ACME_TOKEN, ["acme"]),
        ("globex-ui", GLOBEX_TOKEN, ["globex"]),
    ):
        lines += ["[[clients]]", f'name = "{name}"', f'token = "{token}"', f"tenants = {json.dumps(tenants)}"]
    return "\n".join(lines) + "\n"


def write_config(directory: Path, **sections: dict[str, Any]) -> Path:
    path = directory / "toolpool.toml"
    path.write_text(config_text(directory / "toolpool.db", directory / "dev-token", **sections))
    return path


def make_server(directory: Path, **sections: dict[str, Any]) -> ToolpoolServer:
    config = load_config(write_config(directory, **sections), env={"HOME": str(directory)})
    return ToolpoolServer(config)


def auth(token: str = ORCH_TOKEN) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def deploy(
    stub: pb_grpc.ToolPoolStub,
    tenant: str,
    files: dict[str, str] | None = None,
    *,
    alias: str = "",
    token: str = ORCH_TOKEN,
) -> pb.DeployResponse:
    files = {"tools.py": TOOLS} if files is None else files
    request = pb.DeployRequest(
        tenant=tenant, alias=alias, files=[pb.SourceFile(name=n, source=s) for n, s in files.items()]
    )
    return stub.Deploy(request, metadata=auth(token), timeout=30)


def execute(
    stub: pb_grpc.ToolPoolStub,
    tenant: str,
    function: str,
    *,
    version_id: str = "",
    alias: str = "",
    args: Any = None,
    conversation: Any = None,
    deadline_ms: int = 0,
    timeout: float = 10,
    token: str = ORCH_TOKEN,
    **raw: str,
) -> pb.ExecuteResponse:
    request = pb.ExecuteRequest(
        tenant=tenant,
        function=function,
        deadline_ms=deadline_ms,
        args_json=raw.get("args_json", json.dumps(args if args is not None else {})),
        conversation_json=raw.get("conversation_json", json.dumps(conversation if conversation is not None else {})),
    )
    if alias:
        request.alias = alias
    else:
        request.version_id = version_id
    return stub.Execute(request, metadata=auth(token), timeout=timeout)


def rpc_error(call, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, **kwargs)
    return caught.value


def reason(error: grpc.RpcError) -> str | None:
    return dict(error.trailing_metadata() or ()).get("toolpool-reason")


# -- a server in its own process, for signals and restarts --------------------------------


class ServerProcess:
    """``toolpool serve --config FILE`` in a subprocess; reads the port from its first line."""

    def __init__(self, config_path: Path, *extra: str, env: dict[str, str] | None = None):
        self.config_path = config_path
        self.stderr_path = config_path.parent / f"server-{time.monotonic_ns()}.log"
        environment = {**os.environ, "HOME": str(config_path.parent), **(env or {})}
        environment.pop("TOOLPOOL_TOKEN", None)
        self._stderr = self.stderr_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "worker.cli", "serve", "--config", str(config_path), *extra],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=environment,
        )
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=30)
            raise AssertionError(f"server did not start (exit {self.proc.returncode}):\n{self.stderr()}")
        self.port = json.loads(line)["port"]
        self.target = f"127.0.0.1:{self.port}"

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        code = self.proc.wait(timeout=timeout)
        self._stderr.close()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self._stderr.close()
