"""Faults must not cost the server file descriptors.

The pool holds two descriptors per child (its channel and its pidfd). Whatever ends a
child (a call, a crash, a kill while it waited ready, the template's death), once the
server is back at rest it must hold exactly as many descriptors as before: a server
that leaks one per fault runs out after enough of them, and running out is its own
fault (tests/faults/test_exhaustion.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

import psutil
import pytest

from tests.faults import support
from tests.faults.support import FaultServer
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc

READY = 3


def _kill_ready_children(server: FaultServer, stub, version: str) -> None:
    for child in support.template_of(server.pid).children():
        os.kill(child.pid, signal.SIGKILL)


def _kill_template(server: FaultServer, stub, version: str) -> None:
    os.kill(support.template_of(server.pid).pid, signal.SIGKILL)


def _kill_busy_child(server: FaultServer, stub, version: str) -> None:
    before = {c.pid for c in support.template_of(server.pid).children()}
    box: list = []
    call = threading.Thread(
        target=lambda: box.append(
            support.execute(stub, support.execute_request("acme", "spin", version_id=version, deadline_ms=5000))
        )
    )
    call.start()
    while call.is_alive():  # the child running the call is the one that spins: running, or gaining CPU
        busy = []
        for child in support.template_of(server.pid).children():
            with contextlib.suppress(psutil.Error):
                if child.pid in before and (child.status() == psutil.STATUS_RUNNING or child.cpu_times().user > 0.1):
                    busy.append(child)
        if busy:
            os.kill(busy[0].pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    call.join(30)
    assert box and box[0].is_verdict, box and box[0].describe()


def _hostile_calls(server: FaultServer, stub, version: str) -> None:
    for function in ("crash", "memory_bomb", "output_bomb", "spin"):
        answer = support.execute(
            stub,
            support.execute_request(
                "acme", function, version_id=version, deadline_ms=300 if function == "spin" else 3000
            ),
        )
        assert answer.is_verdict and answer.status != "ok", answer.describe()


@pytest.mark.parametrize(
    "fault",
    [_kill_ready_children, _kill_template, _kill_busy_child, _hostile_calls],
    ids=["ready-children-killed", "template-killed", "busy-child-killed", "hostile-tools"],
)
def test_a_fault_leaves_the_servers_descriptors_as_they_were(tmp_path, fault):
    server = FaultServer(support.write_fault_config(tmp_path, pool={"ready_children": READY}))
    try:
        with server.channel() as channel:
            stub = pb_grpc.ToolPoolStub(channel)
            version = support.deploy(stub, "acme", {"tools.py": support.TOOLS}).deployed.version_id
            assert support.execute(stub, support.execute_request("acme", "good", version_id=version)).status == "ok"
            support.wait_for_rest(server.pid, READY)
            before = support.fd_count(server.pid)
            for _ in range(3):
                fault(server, stub, version)
                support.wait_for_rest(server.pid, READY)
            answer = support.execute(stub, support.execute_request("acme", "good", version_id=version))
            assert answer.status == "ok", answer.describe()
            support.wait_for_rest(server.pid, READY)
            after = support.fd_count(server.pid)
            kinds = sorted(
                os.readlink(f"/proc/{server.pid}/fd/{fd}").rsplit("/", 1)[-1]
                for fd in os.listdir(f"/proc/{server.pid}/fd")
            )
            assert after == before, f"{after - before} descriptors leaked; the server now holds {kinds}"
        assert server.terminate() == 0
    finally:
        server.kill()
