"""The customer corpus through the real sandbox, against plain CPython.

One test per (tool, case). For each call the expectation is computed at test time by
running the tool under plain CPython with the stand-in (``standin.py``, a fresh process
per call); then the same tool runs through toolpool (``compile_bundle`` and the session's
confined pool), and status, error kind, action, state, state changes, logs and the HTTP
log lines are compared. A failing case is information about toolpool: nothing here is
skipped or expected to fail. The first line of a failure is its reason; the session's
summary groups the reasons by cause (``summary.py``).

    .venv/bin/python -m pytest tests/customers -q
"""

from __future__ import annotations

import json

import pytest

from tests.customers.corpus import load_cases, reason, run_sandbox, run_standin, turn_conv, view
from tests.egress.conftest import local_policy

CASES = load_cases()


def _check_yardstick(case, index, expect: dict, expected: dict) -> None:
    """The CPython run must do what the case was written for, or the corpus is wrong."""
    error = expected.get("error") or {}
    want_status = expect.get("status", "ok")
    where = f"{case.id} turn {index + 1}"
    if expected["status"] != want_status:
        raise AssertionError(
            f"yardstick: {where} gave {expected['status']} under CPython, the case expects "
            f"{want_status}: {error.get('message')}\n{error.get('traceback') or ''}"
        )
    if "error_kind" in expect and error.get("kind") != expect["error_kind"]:
        raise AssertionError(f"yardstick: {where} raised {error.get('kind')}, the case expects {expect['error_kind']}")
    for key in expect.get("action_keys", []):
        if key not in expected["action"]:
            raise AssertionError(f"yardstick: {where} has no action {key!r}: {expected['action']}")


def _details(index, turn, expected, actual, exp_view, act_view) -> str:
    error = actual.get("error") or {}
    parts = [f"turn {index + 1}: {turn.function}({json.dumps(turn.args)})"]
    if error.get("problems"):
        parts.append("compile problems:\n  " + "\n  ".join(error["problems"]))
    elif error.get("traceback"):
        parts.append("sandbox traceback:\n" + error["traceback"])
    parts.append("expected (CPython): " + json.dumps(exp_view, ensure_ascii=False, sort_keys=True)[:4000])
    parts.append("actual (sandbox):   " + json.dumps(act_view, ensure_ascii=False, sort_keys=True)[:4000])
    return "\n".join(parts)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_customer_case(case, pool, canned, request):
    resolve = dict.fromkeys(case.hosts, "127.0.0.1")
    egress = local_policy(canned, *case.hosts) if case.hosts else None
    expected_state = actual_state = None
    for index, turn in enumerate(case.turns):
        expected = run_standin(
            case.tool, turn.function, turn_conv(turn, index, expected_state, canned.port), turn.args, resolve
        )
        _check_yardstick(case, index, turn.expect, expected)
        actual = run_sandbox(
            pool, case.tool, turn.function, turn_conv(turn, index, actual_state, canned.port), turn.args, egress
        )
        if actual["status"] == "compile_error":
            request.node.user_properties.append(("compile_problems", actual["error"].get("problems") or []))
        exp_view = view(expected, case.masks, case.shapes)
        act_view = view(actual, case.masks, case.shapes)
        why = reason(expected, actual, exp_view, act_view)
        if why is not None:
            pytest.fail(f"{why}\n{_details(index, turn, expected, actual, exp_view, act_view)}", pytrace=False)
        expected_state, actual_state = expected["state"], actual["state"]


def test_every_tool_has_cases():
    from tests.customers.corpus import CASES as CASE_DIR
    from tests.customers.corpus import TOOLS

    tools = {p.stem for p in TOOLS.glob("*.py")}
    specs = {p.stem for p in CASE_DIR.glob("*.json")}
    assert tools == specs, f"tools without cases: {sorted(tools - specs)}; cases without tools: {sorted(specs - tools)}"
    assert len(tools) >= 45
    for path in TOOLS.glob("*.py"):
        lines = path.read_text(encoding="utf-8").count("\n")
        assert 40 <= lines <= 200, f"{path.name} has {lines} lines"
