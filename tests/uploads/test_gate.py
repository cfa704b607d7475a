"""The compile gate (worker/compiles.py): fair between tenants, bounded, never waiting past
the caller's time. A stand-in compiler that blocks until released makes the order of
turns observable without timing."""

from __future__ import annotations

import threading
import time

import pytest

from worker.compiles import CompileGate, CompileLimits
from worker.errors import Refused, Unavailable


class HeldCompiler:
    """Records the order compiles start in; each waits for ``release``."""

    def __init__(self):
        self.started: list[str] = []
        self.release = threading.Semaphore(0)
        self.lock = threading.Lock()

    def compile(self, files, policy, tenant=None):
        with self.lock:
            self.started.append(files["name"])
        assert self.release.acquire(timeout=10)
        return files["name"]


def submit(gate: CompileGate, tenant: str, name: str, results: dict, *, wait_s: float = 10.0) -> threading.Thread:
    def run():
        try:
            results[name] = gate.compile(tenant, {"name": name}, None, wait_until=time.monotonic() + wait_s)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[name] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.005)


def test_a_flooding_tenant_waits_behind_itself_and_another_tenant_goes_next():
    compiler = HeldCompiler()
    gate = CompileGate(compiler, CompileLimits(concurrency=1, per_tenant=4, total=32))
    results: dict = {}
    threads = [submit(gate, "mallory", "m0", results)]
    wait_for(lambda: compiler.started == ["m0"], "the first compile starts")
    for n in range(1, 4):
        threads.append(submit(gate, "mallory", f"m{n}", results))
    wait_for(lambda: gate.info()["waiting"] == 3, "mallory's flood queues")
    threads.append(submit(gate, "acme", "a0", results))  # arrives last
    wait_for(lambda: gate.info()["waiting"] == 4, "acme queues")
    for _ in range(5):
        compiler.release.release()
    for thread in threads:
        thread.join(10)
    assert compiler.started[:2] == ["m0", "a0"]  # acme's turn came at the first free slot
    assert sorted(compiler.started[2:]) == ["m1", "m2", "m3"]
    assert results == {name: name for name in ("m0", "m1", "m2", "m3", "a0")}


def test_turns_go_round_robin_between_waiting_tenants():
    compiler = HeldCompiler()
    gate = CompileGate(compiler, CompileLimits(concurrency=1, per_tenant=4, total=32))
    results: dict = {}
    threads = [submit(gate, "x", "x0", results)]
    wait_for(lambda: compiler.started == ["x0"], "x0 runs")
    for name in ("a1", "a2", "a3", "b1", "b2", "c1"):
        threads.append(submit(gate, name[0], name, results))
        wait_for(lambda n=len(threads) - 1: gate.info()["waiting"] == n, "queued in order")  # noqa: B008 - bound now
    for _ in range(7):
        compiler.release.release()
    for thread in threads:
        thread.join(10)
    assert compiler.started == ["x0", "a1", "b1", "c1", "a2", "b2", "a3"]


def test_a_tenant_past_its_queue_and_a_full_queue_are_refused_with_a_retry_hint():
    compiler = HeldCompiler()
    gate = CompileGate(compiler, CompileLimits(concurrency=1, per_tenant=2, total=3))
    results: dict = {}
    threads = [submit(gate, "m", "m0", results)]
    wait_for(lambda: compiler.started == ["m0"], "m0 runs")
    threads += [submit(gate, "m", f"m{n}", results) for n in (1, 2)]
    wait_for(lambda: gate.info()["waiting"] == 2, "m's queue is full")
    with pytest.raises(Refused) as tenant_full:
        gate.compile("m", {"name": "m3"}, None, wait_until=time.monotonic() + 10)
    assert tenant_full.value.reason == "TENANT_LIMIT" and tenant_full.value.retry_after_ms >= 1
    threads.append(submit(gate, "a", "a0", results))
    wait_for(lambda: gate.info()["waiting"] == 3, "the queue is full")
    with pytest.raises(Refused) as full:
        gate.compile("b", {"name": "b0"}, None, wait_until=time.monotonic() + 10)
    assert full.value.reason == "OVERLOADED" and "nothing was compiled" in full.value.message
    for _ in range(4):
        compiler.release.release()
    for thread in threads:
        thread.join(10)
    assert gate.info()["refused_tenant"] == 1 and gate.info()["refused_full"] == 1


def test_a_compile_that_cannot_start_before_the_callers_deadline_is_refused():
    compiler = HeldCompiler()
    gate = CompileGate(compiler, CompileLimits(concurrency=1))
    results: dict = {}
    holder = submit(gate, "m", "m0", results)
    wait_for(lambda: compiler.started == ["m0"], "m0 runs")
    with pytest.raises(Refused) as late:
        gate.compile("a", {"name": "a0"}, None, wait_until=time.monotonic() + 0.05)
    assert "could not start in time" in late.value.message
    assert gate.info()["waiting"] == 0  # the refused waiter left the queue
    compiler.release.release()
    holder.join(10)


def test_closing_the_gate_refuses_new_compiles_and_wakes_the_waiting():
    compiler = HeldCompiler()
    gate = CompileGate(compiler, CompileLimits(concurrency=1))
    results: dict = {}
    holder = submit(gate, "m", "m0", results)
    wait_for(lambda: compiler.started == ["m0"], "m0 runs")
    waiter = submit(gate, "a", "a0", results)
    wait_for(lambda: gate.info()["waiting"] == 1, "a0 waits")
    gate.close()
    waiter.join(10)
    assert isinstance(results["a0"], Refused)
    with pytest.raises(Unavailable):
        gate.compile("b", {"name": "b0"}, None, wait_until=time.monotonic() + 10)
    compiler.release.release()
    holder.join(10)
    assert results["m0"] == "m0"  # a compile already running finishes


def test_limits_are_checked():
    with pytest.raises(ValueError, match="compile.per_tenant"):
        CompileLimits(per_tenant=0)
