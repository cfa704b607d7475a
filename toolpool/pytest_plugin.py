"""toolpool's pytest plugin: the ``run_tool`` and ``fake_http`` fixtures for customers' suites.

Registered through the ``pytest11`` entry point, so a suite that has toolpool installed
gets the fixtures with no import. This module imports only pytest; the sandbox is loaded
when a test first asks for ``run_tool`` (``toolpool/testing.py`` has the details).

    def test_greets(run_tool):
        result = run_tool("tool.py", "start_function", conv={"state": {}})
        assert result.ok, result.error

A relative path is read from the test file's directory, so ``pytest`` may run from
anywhere. One confined pool serves the whole session; each call still runs in a fresh
confined child.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def toolpool_sandbox() -> Iterator[Any]:
    """One ``toolpool.testing.Sandbox`` for the session (a private confined pool)."""
    from toolpool.testing import Sandbox

    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture()
def run_tool(toolpool_sandbox: Any, request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``toolpool.testing.run_tool`` on the session's sandbox, relative paths read from
    the test file's directory: ``run_tool(path_or_source, function, conv=, args=,
    secrets=, http=, deadline_ms=) -> toolpool.Result``."""
    base_dir = request.path.parent

    def run(tool: Any, function: str, **options: Any) -> Any:
        return toolpool_sandbox.run(tool, function, base_dir=base_dir, **options)

    return run


@pytest.fixture()
def fake_http() -> Iterator[Any]:
    """A started ``toolpool.testing.FakeHttp`` with no routes yet; pass it as ``http=``."""
    from toolpool.testing import FakeHttp

    with FakeHttp() as server:
        yield server
