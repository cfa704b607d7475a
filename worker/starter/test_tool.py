"""Tests for tool.py, run in the real confined sandbox: `pytest` in this directory.

`run_tool` is toolpool's pytest fixture (installed with toolpool): it compiles the tool as
the service does, runs one call in a fresh confined process and returns its result.
"""

import json
from pathlib import Path

CONV = json.loads((Path(__file__).parent / "conv.json").read_text())


def test_start_function_greets_the_site_that_was_called(run_tool):
    result = run_tool("tool.py", "start_function", conv=CONV)
    assert result.ok, result.error
    assert result.action["utterance"] == "Welcome to London Bridge. How can I help you today?"
    assert result.action["variant"] == "london"
    assert result.state_changes["set"] == {"calls": 1}
    assert "[REDACTED]" in result.logs[0]["message"]  # the secret never reaches a log


def test_start_function_needs_its_secret(run_tool):
    result = run_tool("tool.py", "start_function", conv={**CONV, "secrets": {}})
    assert result.status == "runtime_error"
    assert result.error.kind == "SecretNotFound"


def test_opening_hours(run_tool):
    result = run_tool("tool.py", "opening_hours", conv=CONV, args={"day": "Sunday"})
    assert result.action["content"] == "Tell the caller we are closed on Sunday."
    assert result.state["asked_about"] == "Sunday"
