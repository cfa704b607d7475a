"""A client on another gRPC implementation (Node's @grpc/grpc-js + @grpc/proto-loader)
uses the service from the .proto files alone: no generated code, no Python."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.integration.harness import ORCH_TOKEN, REPO

NODE_CLIENT = Path(__file__).parent / "node_client"


def ensure_node_modules() -> None:
    """`npm ci` from the committed lock file, once per checkout (node_modules is git-ignored)."""
    if (NODE_CLIENT / "node_modules" / "@grpc" / "grpc-js").is_dir():
        return
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_CLIENT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"


def test_node_client_deploys_and_executes_from_the_proto_alone(running):
    for tool in ("node", "npm"):
        assert shutil.which(tool), f"{tool} is required for this test (CI machines have it)"
    ensure_node_modules()
    done = subprocess.run(
        ["node", "client.js", running.target, ORCH_TOKEN, str(REPO / "proto")],
        cwd=NODE_CLIENT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)

    deployed = out["deploy"]["response"]
    assert deployed["outcome"] == "deployed" and "start_function" in deployed["deployed"]["functions"]

    result = out["execute"]["response"]["result"]
    assert result["status"] == "OK"
    state = json.loads(result["state_json"])
    assert state["count"] == 42 and type(state["count"]) is int
    assert state["big"] == 9007199254740993  # beyond a JS double's exact range: JSON text keeps it
    assert json.loads(result["action_json"]) == {"content": "hello from node"}
    assert out["execute_alias"]["response"]["version_id"] == deployed["deployed"]["version_id"]

    compile_error = out["compile_error"]["response"]
    assert compile_error["outcome"] == "compile_errors"
    assert compile_error["compile_errors"]["errors"][0]["file"] == "broken.py"
    assert compile_error["compile_errors"]["errors"][0]["line"] > 0

    assert out["missing"]["error"] == {
        "code": "NOT_FOUND",
        "reason": "VERSION_NOT_FOUND",
        "details": out["missing"]["error"]["details"],
    }
    assert out["bad_json"]["error"]["code"] == "INVALID_ARGUMENT"
    assert out["bad_json"]["error"]["details"].startswith("conversation_json:")
    assert "node_key" in out["secret_names"]["response"]["names"]
