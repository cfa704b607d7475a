"""The service makes a call's deadline once, as its request arrives (worker/service.py
``ToolService.deadline``), and hands that very value to the pool."""

from __future__ import annotations

import time

import pytest

from sandbox.deadline import Deadline
from worker.admission import Admission, AdmissionLimits
from worker.errors import DeadlineTooShort
from worker.service import ExecuteCall, Target, Timing, ToolService
from worker.store.crypto import Keyring, new_key_text, parse_keys
from worker.store.sqlite import SQLiteStore

LIMITS = AdmissionLimits(max_concurrent=2, tenant_concurrency=2, reserved_for_start=0, max_queue=2, tenant_max_queue=2)


class RecordingPool:
    """The session's pool, keeping the requests it was given."""

    def __init__(self, pool):
        self.pool = pool
        self.requests = []

    def execute(self, request, cancelled=None):
        self.requests.append(request)
        return self.pool.execute(request, cancelled=cancelled)

    def __getattr__(self, name):
        return getattr(self.pool, name)


@pytest.fixture
def service(tmp_path, pool):
    store = SQLiteStore(tmp_path / "t.db", Keyring(parse_keys(new_key_text())))
    service = ToolService(store, RecordingPool(pool), Admission(LIMITS), timing=Timing(margin_ms=100, min_run_ms=20))
    yield service
    store.close()


def test_the_deadline_is_the_earliest_of_request_cap_and_rpc_deadline_less_the_margin(tmp_path):
    store = SQLiteStore(tmp_path / "t.db", Keyring(parse_keys(new_key_text())))
    service = ToolService(store, pool=None, admission=Admission(LIMITS), timing=Timing(margin_ms=100))
    at = 1000.0
    assert service.deadline("tool", 0, received_at=at, rpc_remaining_s=None) == Deadline(at + 5.0, 5000)
    assert service.deadline("tool", 300, received_at=at, rpc_remaining_s=None) == Deadline(at + 0.3, 300)
    assert service.deadline("start_function", 60_000, received_at=at, rpc_remaining_s=None) == Deadline(at + 1.0, 1000)
    by_rpc = service.deadline("tool", 3000, received_at=at, rpc_remaining_s=0.5)
    assert by_rpc.at == pytest.approx(at + 0.4) and by_rpc.budget_ms == 400
    assert service.deadline("tool", 300, received_at=at, rpc_remaining_s=10.0) == Deadline(at + 0.3, 300)
    store.close()


def test_the_pool_gets_the_very_deadline_made_at_the_edge(service):
    version = service.deploy("acme", {"tools.py": "def start_function(conv):\n    return 'hi'\n"}, None).version_id
    received_at = time.monotonic()
    deadline = service.deadline("start_function", 0, received_at=received_at, rpc_remaining_s=30.0)
    call = ExecuteCall(
        tenant="acme", target=Target(version_id=version), function="start_function", deadline=deadline, call_id="c-1"
    )
    executed = service.execute(call, received_at=received_at)
    assert executed.result.status.value == "ok" and executed.call_id == "c-1"
    [request] = service._pool.requests
    assert request.deadline is deadline and request.call_id == "c-1"


def test_a_deadline_that_leaves_no_time_to_run_is_deadline_too_short(service):
    version = service.deploy("acme", {"tools.py": "def start_function(conv):\n    return 'hi'\n"}, None).version_id
    received_at = time.monotonic()
    # 110 ms of gRPC time less the 100 ms margin leaves 10 ms, under the 20 ms a call needs.
    deadline = service.deadline("start_function", 0, received_at=received_at, rpc_remaining_s=0.11)
    call = ExecuteCall(
        tenant="acme", target=Target(version_id=version), function="start_function", deadline=deadline, call_id="c-2"
    )
    with pytest.raises(DeadlineTooShort) as refused:
        service.execute(call, received_at=received_at)
    assert refused.value.reason == "DEADLINE_TOO_SHORT"
    assert service._pool.requests == []  # it never reached the pool
