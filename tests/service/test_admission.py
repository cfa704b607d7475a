"""Admission control on its own: limits, fairness, start_function's reserve, deadlines, drain.

Threads stand in for RPC handler threads; no pool or server is involved.
"""

from __future__ import annotations

import random
import threading
import time

import pytest

from worker.admission import Admission, AdmissionLimits
from worker.errors import Refused, Unavailable


def limits(**overrides):
    values = {
        "max_concurrent": 4,
        "tenant_concurrency": 2,
        "reserved_for_start": 1,
        "max_queue": 8,
        "tenant_max_queue": 4,
    }
    values.update(overrides)
    return AdmissionLimits(**values)


def later(seconds: float) -> float:
    return time.monotonic() + seconds


class Waiting:
    """A call waiting in admit() on its own thread; records whether and when it started."""

    def __init__(self, admission: Admission, tenant: str, *, is_start: bool = False, wait_s: float = 5.0):
        self.slot = None
        self.error = None
        self.started_at = None
        self._thread = threading.Thread(target=self._run, args=(admission, tenant, is_start, wait_s), daemon=True)
        self._thread.start()

    def _run(self, admission, tenant, is_start, wait_s):
        try:
            self.slot = admission.admit(tenant, is_start=is_start, start_by=later(wait_s))
            self.started_at = time.monotonic()
        except (Refused, Unavailable) as exc:
            self.error = exc

    def join(self, timeout: float = 5.0) -> Waiting:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "admit() did not return"
        return self


def wait_queued(admission: Admission, count: int) -> None:
    deadline = time.monotonic() + 5
    while admission.stats()["queued"] < count:
        assert time.monotonic() < deadline, admission.stats()
        time.sleep(0.005)


def test_tenant_limit_queues_the_extra_call_until_a_slot_frees():
    admission = Admission(limits())
    first = admission.admit("a", is_start=False, start_by=later(1))
    second = admission.admit("a", is_start=False, start_by=later(1))
    third = Waiting(admission, "a")
    wait_queued(admission, 1)
    assert third.slot is None
    first.release()
    assert third.join().slot is not None
    second.release()
    third.slot.release()
    assert admission.stats()["running"] == 0


def test_a_flooding_tenant_waits_behind_itself_not_in_front_of_others():
    admission = Admission(
        limits(max_concurrent=2, tenant_concurrency=2, reserved_for_start=0, max_queue=16, tenant_max_queue=16)
    )
    running = [admission.admit("flood", is_start=False, start_by=later(1)) for _ in range(2)]
    flood = [Waiting(admission, "flood") for _ in range(6)]
    wait_queued(admission, 6)
    polite = Waiting(admission, "polite")
    wait_queued(admission, 7)
    running[0].release()  # the next free slot goes to the tenant whose turn it is
    polite.join()
    assert polite.slot is not None
    assert sum(w.slot is not None for w in flood) == 0
    admission.close()
    for w in flood:
        w.join()
    running[1].release()
    polite.slot.release()


def test_start_function_uses_the_reserved_slot_when_slow_tools_fill_the_rest():
    admission = Admission(limits(max_concurrent=4, tenant_concurrency=4, reserved_for_start=1))
    slow = [admission.admit("a", is_start=False, start_by=later(1)) for _ in range(3)]
    other_tool = Waiting(admission, "b", wait_s=0.3)  # not a start_function: may not take the reserve
    wait_queued(admission, 1)
    started = time.monotonic()
    greeting = admission.admit("b", is_start=True, start_by=later(1))
    assert time.monotonic() - started < 0.05
    assert other_tool.join().error is not None  # refused at its deadline, never started
    for slot in [*slow, greeting]:
        slot.release()


def test_start_function_goes_first_within_a_tenant():
    admission = Admission(limits(max_concurrent=2, tenant_concurrency=1, reserved_for_start=0))
    holder = admission.admit("a", is_start=False, start_by=later(1))
    tool = Waiting(admission, "a")
    wait_queued(admission, 1)
    greeting = Waiting(admission, "a", is_start=True)
    wait_queued(admission, 2)
    holder.release()
    greeting.join()
    assert greeting.slot is not None and tool.slot is None
    greeting.slot.release()
    tool.join().slot.release()


def test_full_queue_is_refused_at_once_with_retry_information():
    admission = Admission(
        limits(max_concurrent=2, tenant_concurrency=2, reserved_for_start=0, max_queue=2, tenant_max_queue=2)
    )
    holders = [admission.admit("a", is_start=False, start_by=later(2)) for _ in range(2)]
    queued = [Waiting(admission, "a") for _ in range(2)]
    wait_queued(admission, 2)
    started = time.monotonic()
    with pytest.raises(Refused) as refused:
        admission.admit("b", is_start=False, start_by=later(5))
    assert time.monotonic() - started < 0.05
    assert refused.value.retry_after_ms >= 1
    assert refused.value.reason == "OVERLOADED"
    admission.close()
    for w in queued:
        assert isinstance(w.join().error, Unavailable)
    for h in holders:
        h.release()


def test_tenant_queue_bound_names_the_tenant_limit():
    admission = Admission(limits(max_concurrent=2, tenant_concurrency=1, reserved_for_start=0, tenant_max_queue=1))
    holder = admission.admit("a", is_start=False, start_by=later(2))
    queued = Waiting(admission, "a")
    wait_queued(admission, 1)
    with pytest.raises(Refused) as refused:
        admission.admit("a", is_start=False, start_by=later(5))
    assert refused.value.reason == "TENANT_LIMIT"
    # Another tenant is not affected by a's queue.
    admission.admit("b", is_start=False, start_by=later(1)).release()
    holder.release()
    queued.join().slot.release()


def test_a_call_that_cannot_start_in_time_is_refused_at_once():
    admission = Admission(limits(max_concurrent=1, tenant_concurrency=1, reserved_for_start=0))
    # Teach the moving average that calls take about 200 ms.
    slot = admission.admit("a", is_start=False, start_by=later(1))
    time.sleep(0.2)
    slot.release()
    holder = admission.admit("a", is_start=False, start_by=later(1))
    started = time.monotonic()
    with pytest.raises(Refused) as refused:
        admission.admit("b", is_start=False, start_by=later(0.05))  # needs ~200 ms, has 50
    assert time.monotonic() - started < 0.02, "refused at once, not after waiting"
    assert refused.value.retry_after_ms >= 100
    assert admission.stats()["refused_estimate"] == 1
    holder.release()


def test_a_queued_call_is_refused_by_its_start_time_not_later():
    admission = Admission(limits(max_concurrent=1, tenant_concurrency=1, reserved_for_start=0))
    holder = admission.admit("a", is_start=False, start_by=later(1))
    started = time.monotonic()
    with pytest.raises(Refused):
        admission.admit("b", is_start=False, start_by=later(0.15))
    elapsed = time.monotonic() - started
    assert 0.14 <= elapsed < 0.3
    assert admission.stats()["queued"] == 0
    holder.release()


def test_close_refuses_waiting_and_new_calls_and_lets_running_ones_finish():
    admission = Admission(limits(max_concurrent=2, tenant_concurrency=1, reserved_for_start=0))
    running = admission.admit("a", is_start=False, start_by=later(1))
    waiting = Waiting(admission, "a")
    wait_queued(admission, 1)
    admission.close()
    assert waiting.join().error.reason == "DRAINING"
    with pytest.raises(Unavailable):
        admission.admit("b", is_start=False, start_by=later(1))
    assert not admission.wait_idle(0.05)
    running.release()
    assert admission.wait_idle(1)


def test_invariants_hold_under_random_concurrent_load():
    lim = limits(max_concurrent=4, tenant_concurrency=2, reserved_for_start=1, max_queue=6, tenant_max_queue=3)
    admission = Admission(lim)
    lock = threading.Lock()
    running: dict[str, int] = {}
    totals = {"all": 0, "other": 0}
    violations: list[str] = []
    outcomes = {"ran": 0, "refused": 0}

    def one_call(rng: random.Random) -> None:
        tenant = rng.choice("abcde")
        is_start = rng.random() < 0.3
        try:
            slot = admission.admit(tenant, is_start=is_start, start_by=later(rng.uniform(0.01, 0.2)))
        except Refused:
            with lock:
                outcomes["refused"] += 1
            return
        with slot:
            with lock:
                running[tenant] = running.get(tenant, 0) + 1
                totals["all"] += 1
                totals["other"] += not is_start
                if totals["all"] > lim.max_concurrent:
                    violations.append(f"{totals['all']} running")
                if running[tenant] > lim.tenant_concurrency:
                    violations.append(f"tenant {tenant} has {running[tenant]}")
                if totals["other"] > lim.max_concurrent - lim.reserved_for_start:
                    violations.append("a non-start call took the reserved slot")
            time.sleep(rng.uniform(0, 0.01))
            with lock:
                running[tenant] -= 1
                totals["all"] -= 1
                totals["other"] -= not is_start
                outcomes["ran"] += 1

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(40):
            one_call(rng)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not violations, violations[:5]
    assert outcomes["ran"] + outcomes["refused"] == 16 * 40
    assert outcomes["ran"] > 0
    stats = admission.stats()
    assert stats["running"] == 0 and stats["queued"] == 0 and stats["tenants"] == {}


def test_refuse_if_hopeless_refuses_what_admit_would_and_takes_nothing():
    admission = Admission(
        limits(max_concurrent=2, tenant_concurrency=2, reserved_for_start=0, max_queue=1, tenant_max_queue=1)
    )
    admission.refuse_if_hopeless("a", is_start=False, start_by=later(1))  # a slot is free
    holders = [admission.admit("a", is_start=False, start_by=later(2)) for _ in range(2)]
    admission.refuse_if_hopeless("b", is_start=False, start_by=later(1))  # no slot, but room in the queue
    queued = Waiting(admission, "a")
    wait_queued(admission, 1)
    with pytest.raises(Refused) as refused:
        admission.refuse_if_hopeless("b", is_start=False, start_by=later(5))
    assert refused.value.retry_after_ms >= 1
    stats = admission.stats()
    assert stats["queued"] == 1 and stats["running"] == 2 and set(stats["tenants"]) == {"a"}
    admission.close()
    with pytest.raises(Unavailable):
        admission.refuse_if_hopeless("b", is_start=False, start_by=later(5))
    assert isinstance(queued.join().error, Unavailable)
    for h in holders:
        h.release()
