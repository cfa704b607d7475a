"""A call's one deadline (sandbox/deadline.py): made once, held to the tool kind's cap,
carried unchanged to the pool, and sent to the child as the time it leaves."""

from __future__ import annotations

import marshal
import time

import pytest

from sandbox.compile.compiler import compile_bundle
from sandbox.deadline import Deadline
from sandbox.errors import InvalidInput, ToolpoolError
from sandbox.supervisor.call import CallRequest, prepare, requested_deadline

BUNDLE = compile_bundle({"tool.py": "def tool(conv):\n    return 1\n\ndef start_function(conv):\n    return 1\n"})


def test_a_deadline_is_an_instant_and_the_budget_it_was_made_from():
    deadline = Deadline.after(250, now=100.0)
    assert deadline == Deadline(at=100.25, budget_ms=250)
    assert deadline.remaining_s(now=100.05) == pytest.approx(0.2)
    assert deadline.remaining_ms(now=100.0501) == 200  # rounded up: a timer armed with it never ends early
    assert deadline.remaining_ms(now=101.0) == 0 and deadline.expired(now=100.25) and not deadline.expired(now=100.2)


def test_within_keeps_a_deadline_inside_its_cap_as_it_is():
    early, late = Deadline.after(100, now=0.0), Deadline.after(1000, now=0.0)
    assert early.within(late) is early and late.within(early) is early


def test_prepare_carries_the_callers_deadline_unchanged_and_holds_a_later_one_to_the_cap():
    mine = Deadline.after(300)
    assert prepare(CallRequest(tenant="t", bundle=BUNDLE, function="tool", deadline=mine)).deadline is mine
    capped = prepare(
        CallRequest(tenant="t", bundle=BUNDLE, function="start_function", deadline=Deadline.after(60_000))
    ).deadline
    assert capped.budget_ms == 1_000 and capped.remaining_s() <= 1.0
    default = prepare(CallRequest(tenant="t", bundle=BUNDLE, function="tool")).deadline
    assert default.budget_ms == 5_000


def test_the_child_is_sent_the_time_left_as_the_frame_is_sent():
    call = prepare(CallRequest(tenant="t", bundle=BUNDLE, function="tool", deadline=Deadline.after(400)))
    time.sleep(0.15)
    _, request = marshal.loads(call.frame())
    assert 200 <= request["deadline_ms"] <= 251


def test_a_library_callers_deadline_ms_is_checked():
    assert requested_deadline(None) is None and requested_deadline(0) is None
    assert requested_deadline(200).budget_ms == 200
    for bad in (-1, 1.5, True, "200"):
        with pytest.raises(InvalidInput) as refused:
            requested_deadline(bad)
        assert refused.value.field == "deadline_ms" and isinstance(refused.value, ToolpoolError)
    with pytest.raises(InvalidInput, match="deadline"):
        prepare(CallRequest(tenant="t", bundle=BUNDLE, function="tool", deadline=200))
