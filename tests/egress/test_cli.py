"""`toolpool run --allow-host/--allow-address`: the egress policy of a local run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

TOOL = """
import requests
def tool(conv, url):
    try:
        return requests.get(url, timeout=3).json()["path"]
    except requests.ConnectionError as e:
        return "refused: " + str(e)
"""


def toolpool_run(tmp_path, url, *flags):
    (tmp_path / "tool.py").write_text(TOOL)
    (tmp_path / "args.json").write_text(json.dumps({"url": url}))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "worker.cli",
            "run",
            str(tmp_path / "tool.py"),
            "tool",
            "--args",
            str(tmp_path / "args.json"),
            *flags,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc


def test_allow_address_reaches_a_local_server(tmp_path, server, token):
    url = f"http://127.0.0.1:{server.port}/echo/{token}"
    proc = toolpool_run(tmp_path, url, "--allow-address", f"127.0.0.1:{server.port}")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["action"]["content"] == f"/echo/{token}"
    assert result["usage"]["http_requests"] == 1
    assert result["logs"][-1]["message"].startswith(f"http GET 127.0.0.1:{server.port} 200 ")


def test_no_flag_no_egress_and_a_bad_flag_is_bad_input(tmp_path, server, token):
    url = f"http://127.0.0.1:{server.port}/echo/{token}"
    proc = toolpool_run(tmp_path, url)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["action"]["content"] == (
        "refused: outbound HTTP is not enabled for this tenant: the request to 127.0.0.1 is refused"
    )
    # naming the host alone: the CLI says which --allow-address line reaches loopback
    proc = toolpool_run(
        tmp_path, f"http://localhost:{server.port}/echo/{token}", "--allow-host", f"http://localhost:{server.port}"
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert f"use --allow-address 127.0.0.1:{server.port}" in proc.stderr
    # naming the host is not naming its address: loopback stays unreachable (another address named)
    proc = toolpool_run(
        tmp_path,
        f"http://localhost:{server.port}/echo/{token}",
        "--allow-host",
        f"http://localhost:{server.port}",
        "--allow-address",
        "10.255.255.1",
    )
    assert "localhost resolves to" in json.loads(proc.stdout)["action"]["content"]
    assert server.hits_for(token) == []
    proc = toolpool_run(tmp_path, url, "--allow-address", "localhost")
    assert proc.returncode == 2 and "egress:" in proc.stderr
