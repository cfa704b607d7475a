"""``conv.state.x += 1`` works: the compiler expands augmented assignment to pure targets."""

from __future__ import annotations

import json
import marshal

import pytest

from sandbox.call import CallRequest, prepare
from sandbox.compiler import compile_bundle
from sandbox.errors import CompileFailure
from sandbox.inside.entry import run_request


def run(source: str, state: dict) -> dict:
    call = prepare(CallRequest(tenant="t", bundle=compile_bundle({"tool.py": source}), function="tool",
                               conversation={"state": state}))
    code, request = marshal.loads(call.frame)
    return run_request(json.loads(request), code)


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


def test_impure_target_is_still_refused_with_the_rewrite_shown():
    with pytest.raises(CompileFailure, match="instead of x.a \\+= 1"):
        compile_bundle({"tool.py": "def tool(conv):\n    pick(conv).n += 1\n"})
