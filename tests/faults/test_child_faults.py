"""Faults below the server: a child killed, crashed, frozen or abandoned; the template killed.

The server is real and in-process (conftest ``live``), so the tests can ask its pool
which child is running a call and which pid is the template, then hit that process
with a real signal. Each test ends by checking that no process was leaked: the
template has at most its ready children and none of them has a child.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

import grpc
import psutil
import pytest

from tests.faults import support
from tests.faults.conftest import READY, Live
from tests.integration.harness import auth
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc

INPUT_STATE = {"before": 1}


def busy_child(live: Live, known: set[int] = frozenset(), timeout: float = 10.0) -> int:
    """The pid of a child that started running a call after ``known`` was taken."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = [pid for pid in live.server.pool.busy_child_pids() if pid not in known]
        if fresh:
            return fresh[0]
        time.sleep(0.02)
    raise AssertionError("no child started running the call")


def in_background(fn) -> tuple[threading.Thread, list]:
    box: list = []
    thread = threading.Thread(target=lambda: box.append(fn()))
    thread.start()
    return thread, box


def assert_pool_at_rest(live: Live, timeout: float = 20.0) -> None:
    """No call in flight and no process beyond the template's ready children (and compile workers)."""
    deadline = time.monotonic() + timeout
    while True:
        stats = live.server.pool.stats()
        try:
            template = psutil.Process(stats["template_pid"])
            children = [c for c in template.children() if c.status() != psutil.STATUS_ZOMBIE]
            if (
                stats["in_flight"] == 0
                and len(children) <= READY + support.COMPILE_WORKERS
                and not any(c.children() for c in children)
            ):
                return
        except psutil.Error:  # a child exiting as we look: look again
            children = []
        if time.monotonic() > deadline:
            raise AssertionError(f"pool not at rest: {stats}, template children {[c.pid for c in children]}")
        time.sleep(0.1)


def assert_back_to_work(live: Live) -> None:
    answer = live.call("good", args={"n": 41})
    assert answer.status == "ok", answer.describe()
    assert answer.state == {**INPUT_STATE, "n": 42}


# -- a child killed or crashed mid-call ------------------------------------------------------------


def test_a_child_sigkilled_mid_call_gets_a_clear_verdict_and_nothing_hangs(live):
    known = set(live.server.pool.busy_child_pids())
    thread, box = in_background(lambda: live.call("nap", args={"ms": 3000}, deadline_ms=4500))
    os.kill(busy_child(live, known), signal.SIGKILL)
    thread.join(30)
    assert box, "the call never got an answer"
    answer = box[0]
    assert answer.status == "runtime_error" and answer.error_kind == "Crash", answer.describe()
    assert "SIGKILL" in answer.error_message
    assert answer.state == INPUT_STATE, "a killed call must commit none of its state"
    assert_back_to_work(live)
    assert_pool_at_rest(live)


def test_a_c_level_stack_overflow_is_a_crash_verdict(live):
    answer = live.call("crash", deadline_ms=4000)
    assert answer.status == "runtime_error" and answer.error_kind == "Crash", answer.describe()
    assert "SIGSEGV" in answer.error_message
    assert answer.state == INPUT_STATE
    assert_back_to_work(live)
    assert_pool_at_rest(live)


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGTERM], ids=lambda s: s.name)
def test_a_child_killed_by_a_signal_gets_a_verdict_naming_it(live, sig):
    known = set(live.server.pool.busy_child_pids())
    thread, box = in_background(lambda: live.call("nap", args={"ms": 3000}, deadline_ms=4500))
    os.kill(busy_child(live, known), sig)
    thread.join(30)
    assert box, "the call never got an answer"
    answer = box[0]
    assert answer.status == "runtime_error" and answer.error_kind == "Crash", answer.describe()
    assert sig.name in answer.error_message
    assert answer.state == INPUT_STATE
    assert_pool_at_rest(live)


def test_a_frozen_child_still_times_out(live):
    """SIGSTOP: the child can neither answer nor arm anything; the pidfd SIGKILL still ends it."""
    known = set(live.server.pool.busy_child_pids())
    thread, box = in_background(lambda: live.call("nap", args={"ms": 3000}, deadline_ms=800))
    pid = busy_child(live, known)
    os.kill(pid, signal.SIGSTOP)
    thread.join(30)
    assert box and box[0].status == "timeout", box and box[0].describe()
    assert box[0].state == INPUT_STATE
    support.assert_all_gone([psutil.Process(pid)] if psutil.pid_exists(pid) else [])
    assert_pool_at_rest(live)


def test_ready_children_killed_while_idle_are_replaced(live):
    assert_pool_at_rest(live)
    template = psutil.Process(live.server.pool.stats()["template_pid"])
    victims = template.children()
    assert victims, "the pool keeps children ready ahead of demand"
    for child in victims:
        os.kill(child.pid, signal.SIGKILL)
    support.assert_all_gone(victims)
    answers = [live.call("good", args={"n": i}) for i in range(READY + 2)]
    assert [a.status for a in answers] == ["ok"] * (READY + 2), [a.describe() for a in answers]
    assert_pool_at_rest(live)


# -- the template killed ---------------------------------------------------------------------------


@pytest.mark.parametrize("rounds", [2])
def test_the_template_killed_with_calls_in_flight_every_call_gets_a_verdict(live, rounds):
    for _ in range(rounds):
        stats = live.server.pool.stats()
        old_template = psutil.Process(stats["template_pid"])
        restarts = stats.get("count_template_restarts", 0)
        known = set(live.server.pool.busy_child_pids())
        calls = [in_background(lambda: live.call("nap", args={"ms": 2500}, deadline_ms=4500)) for _ in range(4)]
        deadline = time.monotonic() + 15
        while len(set(live.server.pool.busy_child_pids()) - known) < 4:
            assert time.monotonic() < deadline, "the four calls never all ran"
            time.sleep(0.02)
        doomed = old_template.children()
        os.kill(old_template.pid, signal.SIGKILL)
        for thread, _ in calls:
            thread.join(30)
        answers = [box[0] for _, box in calls if box]
        assert len(answers) == 4, "a call in flight got no answer"
        for answer in answers:
            assert answer.is_verdict, answer.describe()
            assert answer.status != "ok", "its process died with the template"
            assert answer.state == INPUT_STATE
        support.assert_all_gone([old_template, *doomed])
        # The pool replaces the template by itself, soon after the old one's processes go
        # (about a second on this machine: the new one runs its start-up self-test).
        deadline = time.monotonic() + 30
        while (stats := live.server.pool.stats())["template_pid"] in (old_template.pid, None):
            assert time.monotonic() < deadline, f"the template was never replaced: {stats}"
            time.sleep(0.05)
        assert stats.get("count_template_restarts", 0) == restarts + 1, stats
        assert_back_to_work(live)
        assert_pool_at_rest(live)


def test_a_frozen_template_delays_calls_but_every_one_is_answered(live):
    """SIGSTOP on the template: no new child, no exit report. Calls use the ready children,
    then are answered (a verdict or UNAVAILABLE) by their deadline; SIGCONT heals."""
    assert_pool_at_rest(live)
    template = psutil.Process(live.server.pool.stats()["template_pid"])
    template.suspend()
    try:
        requests = [live.request("good", args={"n": i}, deadline_ms=1500) for i in range(READY + 2)]
        answers = support.run_concurrently(
            [lambda r=r: support.execute(live.stub, r, timeout=20) for r in requests], width=READY + 2
        )
    finally:
        template.resume()
    for answer in answers:
        assert answer.from_server, f"no answer from the server: {answer.describe()}"
        if not answer.is_verdict:
            assert answer.code == "UNAVAILABLE" and answer.reason == "POOL_UNAVAILABLE", answer.describe()
    assert sum(a.status == "ok" for a in answers) >= 1, [a.describe() for a in answers]
    assert_back_to_work(live)
    assert_pool_at_rest(live)


# -- a client that goes away -----------------------------------------------------------------------


def _disconnect_mid_call(live: Live, how: str, call_id: str) -> int:
    """Starts a 4 s call from a client of its own, makes the client go away, returns the child pid."""
    channel = grpc.insecure_channel(f"127.0.0.1:{live.server.port}")
    stub = pb_grpc.ToolPoolStub(channel)
    known = set(live.server.pool.busy_child_pids())
    request = live.request("nap", args={"ms": 4000}, deadline_ms=5000, call_id=call_id)
    future = stub.Execute.future(request, metadata=auth(), timeout=30)
    pid = busy_child(live, known)
    if how == "cancel":
        future.cancel()
    else:
        channel.close()
    channel.close()
    return pid


@pytest.mark.parametrize("how", ["cancel", "close"])
def test_a_client_that_goes_away_leaves_no_child_and_no_slot_behind(live, how):
    pid = _disconnect_mid_call(live, how, f"gone-{how}-{time.monotonic_ns()}")
    # However the server handles it, the child cannot outlive the call's deadline (5 s).
    support.assert_all_gone([psutil.Process(pid)] if psutil.pid_exists(pid) else [], timeout=20)
    deadline = time.monotonic() + 10
    while live.server.admission.stats()["running"]:
        assert time.monotonic() < deadline, "the admission slot of the abandoned call was never released"
        time.sleep(0.05)
    assert_pool_at_rest(live)
    assert_back_to_work(live)


@pytest.mark.parametrize("how", ["cancel", "close"])
def test_a_client_that_goes_away_gets_its_child_stopped(live, how, caplog):
    """Nobody will read the verdict: the server stops the tool instead of letting it run on.

    The tool sleeps 4 s then returns ok; the call's deadline is 5 s. If the server kept
    running it after the client left, the call it logs ends ``ok``; stopped, it does not.
    """
    caplog.set_level(logging.INFO, logger="toolpool")
    call_id = f"stopped-{how}-{time.monotonic_ns()}"
    pid = _disconnect_mid_call(live, how, call_id)
    support.assert_all_gone([psutil.Process(pid)] if psutil.pid_exists(pid) else [], timeout=20)
    deadline = time.monotonic() + 10
    while call_id not in support.calls_in_log("\n".join(r.getMessage() for r in caplog.records)):
        assert time.monotonic() < deadline, "the server never logged the abandoned call"
        time.sleep(0.05)
    statuses = support.calls_in_log("\n".join(r.getMessage() for r in caplog.records))[call_id]
    assert statuses != ["ok"], (
        "the client went away 4 s before the tool finished, yet the server let the tool run "
        "to completion: an abandoned call holds its child and its admission slot until its deadline"
    )


def test_a_frozen_template_does_not_keep_a_caller_past_its_deadline(live):
    """The deadline kill needs no word from the template: a call that hit its deadline is
    answered ``timeout`` by its deadline even when the template, frozen, never reports the
    child's exit. (The caller's gRPC deadline here is the call's deadline plus 1.5 s.)"""
    assert_pool_at_rest(live)
    template = psutil.Process(live.server.pool.stats()["template_pid"])
    template.suspend()
    try:
        answer = live.call("nap", args={"ms": 3000}, deadline_ms=800, timeout=2.3)
    finally:
        template.resume()
    assert answer.from_server, f"no answer by the caller's deadline: {answer.describe()}"
    assert answer.status == "timeout", answer.describe()
    assert_back_to_work(live)
    assert_pool_at_rest(live)
