"""``conv.state.x += 1`` and ``totals[key(x)] += 1`` work as in CPython: the compiler expands
augmented assignment to attributes and items so each half goes through its guard."""

from __future__ import annotations

import marshal

import pytest

from sandbox.child.entry import run_request
from sandbox.compile.compiler import compile_bundle
from sandbox.errors import CompileFailure
from sandbox.plaindata import apply_changes
from sandbox.supervisor.call import CallRequest, prepare, validate_input


def run(source: str, state: dict) -> dict:
    """The child's reply, with ``state``: the state after the call, as the supervisor
    rebuilds it from the changes the child reports."""
    call = prepare(
        CallRequest(
            tenant="t",
            bundle=compile_bundle({"tool.py": source}),
            function="tool",
            input=validate_input({"state": state}),
        )
    )
    code, request = marshal.loads(call.frame())
    reply = run_request(request, code)
    if reply["outcome"] == "returned":
        reply["state"], _ = apply_changes(
            call.state_before, reply["state_set"], reply["state_deleted"], reply.get("state_order")
        )
    return reply


def test_attribute_and_item_targets_on_state():
    source = "def tool(conv):\n    conv.state.n += 1\n    conv.state['s'] += 'b'\n    conv.state.n *= 10\n"
    reply = run(source, {"n": 1, "s": "a"})
    assert reply["outcome"] == "returned", reply
    assert reply["state"] == {"n": 20, "s": "ab"}


def test_nested_item_target_goes_through_the_guards():
    source = "def tool(conv):\n    conv.state.counts['x'] += 2\n"
    assert run(source, {"counts": {"x": 1}})["state"] == {"counts": {"x": 3}}


def test_unset_variable_reads_none_so_adding_fails_with_a_line():
    reply = run("def tool(conv):\n    conv.state.attempts += 1\n", {})
    assert reply["outcome"] == "failed" and reply["error"]["line"] == 2
    assert "NoneType" in reply["error"]["message"]


def test_targets_with_side_effects_are_evaluated_once():
    source = """
calls = []

def key(name):
    calls.append(name)
    return name

class Box:
    def __init__(self):
        self.n = 0

def pick(box):
    calls.append("pick")
    return box

def tool(conv):
    totals = {"a": 1}
    totals[key("a")] += 5
    box = Box()
    pick(box).n += 2
    rows = [[1], [2]]
    alias = rows[0]
    rows[len(calls) - 2] += [9]
    return {"content": f"{totals} {box.n} {calls} {alias} {rows}"}
"""
    reply = run(source, {})
    assert reply["outcome"] == "returned", reply
    # as CPython: each target part once; list += extends the same list in place
    assert reply["return"]["content"] == "{'a': 6} 2 ['a', 'pick'] [1, 9] [[1, 9], [2]]"


def test_a_slice_with_side_effects_is_still_refused_with_the_rewrite_shown():
    with pytest.raises(CompileFailure, match="instead of x\\[k\\] \\+= 1"):
        compile_bundle({"tool.py": "def tool(conv):\n    x = [1]\n    x[f():] += [1]\n"})
