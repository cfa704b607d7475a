"""``toolpool.testing`` on the real confined sandbox: ``run_tool``, ``Sandbox``, ``FakeHttp``
through the real egress path, the pytest fixtures, and that nothing outside
``toolpool.testing`` can build its loopback policy."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import toolpool
from toolpool.testing import FakeHttp, Response, Sandbox, run_tool
from worker.compiling import ToolFilesError

pytestmark = pytest.mark.system  # a pool, and pytest in a subprocess

REPO = Path(__file__).resolve().parents[2]

LOOKUP = """
import requests

def lookup(conv, phone):
    response = requests.post(f"{conv.variant.api_base}/customers/search", json={"phone": phone}, timeout=3)
    if response.status_code == 404:
        return {"utterance": "I could not find you."}
    conv.state.customer = response.json()["name"]
    return {"utterance": "Hello " + response.json()["name"]}
"""


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as shared:
        yield shared


def conv_for(api: FakeHttp) -> dict:
    return {"variants": {"main": {"api_base": api.base_url}}, "variant": "main"}


def test_run_tool_runs_in_a_confined_child_and_returns_the_public_result():
    result = run_tool("import os\n", "f")
    assert isinstance(result, toolpool.Result) and result.status == toolpool.Status.COMPILE_ERROR
    assert result.error.line == 1 and "import of 'os' is not allowed" in result.error.message
    result = run_tool("def f(conv):\n    import ctypes\n", "f")
    assert result.status == "compile_error"
    # In the child the tool has no network and no other process: the sandbox, not a stand-in.
    result = run_tool("def f(conv):\n    return str(len(conv.state))\n", "f", conv={"state": {"a": 1}})
    assert result.ok and result.action == {"content": "1"} and result.usage.cpu_ms > 0


def test_sources_paths_bundles_and_missing_functions(sandbox, tmp_path):
    (tmp_path / "tool.py").write_text("def f(conv, n):\n    return str(n * 2)\n")
    assert sandbox.run(tmp_path / "tool.py", "f", args={"n": 21}).action == {"content": "42"}
    assert sandbox.run("tool.py", "f", args={"n": 1}, base_dir=tmp_path).action == {"content": "2"}
    assert sandbox.run({"a.py": "def a(conv):\n    return 'A'\n"}, "a").action == {"content": "A"}
    missing = sandbox.run(tmp_path / "tool.py", "g")
    assert missing.status == "not_found" and missing.error.message == "tool.py has no function 'g'; it defines: f"
    with pytest.raises(ToolFilesError, match="no such file"):
        sandbox.run(tmp_path / "absent.py", "f")


def test_secrets_reach_the_tool_and_are_redacted(sandbox):
    source = "def f(conv):\n    log.info('key ' + conv.utils.get_secret('api'))\n    return 'ok'\n"
    result = sandbox.run(source, "f", secrets={"api": "sk-secret-value"})
    assert result.ok and result.logs == [{"level": "info", "message": "key [REDACTED]"}]
    assert sandbox.run(source, "f").status == "runtime_error"


def test_canned_http_goes_through_the_real_egress_path(sandbox):
    with FakeHttp({"POST /customers/search": {"json": {"name": "Ada"}}}) as api:
        result = sandbox.run(LOOKUP, "lookup", conv=conv_for(api), args={"phone": "+15551230000"}, http=api)
        assert result.ok, result.error
        assert result.action == {"utterance": "Hello Ada"} and result.state["customer"] == "Ada"
        assert [(r.method, r.path, r.json()) for r in api.requests] == [
            ("POST", "/customers/search", {"phone": "+15551230000"})
        ]
        # The supervisor made the request: its usage counters and log line, not the tool's.
        assert result.usage.http_requests == 1
        assert re.fullmatch(rf"http POST 127\.0\.0\.1:{api.port} 200 [0-9.]+ ms", result.logs[-1]["message"])


def test_a_route_can_answer_from_the_request_and_unknown_routes_are_404(sandbox):
    with FakeHttp() as api:
        api.add(
            "/customers/search",
            lambda request: Response(status=404 if request.json()["phone"] == "x" else 200, json={"name": "Bo"}),
        )
        assert sandbox.run(LOOKUP, "lookup", conv=conv_for(api), args={"phone": "x"}, http=api).action == {
            "utterance": "I could not find you."
        }
        assert sandbox.run(LOOKUP, "lookup", conv=conv_for(api), args={"phone": "y"}, http=api).action == {
            "utterance": "Hello Bo"
        }
    with FakeHttp({"GET /other": Response(text="x")}) as api:
        source = (
            "import requests\ndef f(conv):\n    r = requests.get(conv.variant.api_base + '/nope', timeout=3)\n"
            "    return str(r.status_code) + ' ' + r.json()['error']\n"
        )
        result = sandbox.run(source, "f", conv=conv_for(api), http=api)
        assert result.action == {"content": "404 no canned response for GET /nope"}


def test_without_http_the_tool_has_no_egress_even_to_the_fake_server(sandbox):
    with FakeHttp({"POST /customers/search": {"json": {"name": "Ada"}}}) as api:
        result = sandbox.run(LOOKUP, "lookup", conv=conv_for(api), args={"phone": "1"})
        assert result.status == "runtime_error" and "outbound HTTP is not enabled" in result.error.message
        assert api.requests == []


def test_the_policy_reaches_only_the_fake_servers_own_port(sandbox):
    with FakeHttp({"/x": {"text": "mine"}}) as api, FakeHttp({"/x": {"text": "other"}}) as other:
        source = "import requests\ndef f(conv, url):\n    return requests.get(url, timeout=3).text\n"
        result = sandbox.run(source, "f", args={"url": other.base_url + "/x"}, http=api)
        assert result.status == "runtime_error" and "not allowed by the egress policy" in result.error.message
        assert other.requests == []


def imported_names(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def test_nothing_outside_toolpool_testing_builds_the_loopback_policy():
    """No service configuration, environment variable or RPC can turn the hook on: the
    service's modules never name it, and a server process never loads it."""
    for path in [*(REPO / "worker").rglob("*.py"), *(REPO / "sandbox").rglob("*.py")]:
        assert not [
            name for name in imported_names(path) if name.startswith(("toolpool.testing", "toolpool.pytest_plugin"))
        ], path
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, worker.server, worker.cli.root; print(json.dumps(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "toolpool.testing" not in json.loads(done.stdout)


def test_the_pytest_plugin_gives_run_tool_and_fake_http(tmp_path):
    (tmp_path / "tool.py").write_text(LOOKUP + "\ndef start_function(conv):\n    return 'hi'\n")
    (tmp_path / "test_mine.py").write_text("""
def test_start(run_tool):
    assert run_tool("tool.py", "start_function").action == {"content": "hi"}

def test_lookup(run_tool, fake_http):
    fake_http.add("POST /customers/search", json={"name": "Cy"})
    conv = {"variants": {"m": {"api_base": fake_http.base_url}}, "variant": "m"}
    result = run_tool("tool.py", "lookup", conv=conv, args={"phone": "1"}, http=fake_http)
    assert result.action == {"utterance": "Hello Cy"}
    assert fake_http.requests[0].json() == {"phone": "1"}
""")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=REPO / "tests",
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "2 passed" in done.stdout
