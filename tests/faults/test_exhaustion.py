"""File descriptors run out; the process table fills up.

Both are applied to a server subprocess only: RLIMIT_NOFILE lowered on the running
server (prlimit) to the number of descriptors it holds, and a fresh pids cgroup whose
``pids.max`` is set to the number of tasks (threads and processes) the server's tree
already has. Root ignores RLIMIT_NPROC, so the cgroup is the only honest way to fill
"the process table" of one process tree without touching the machine's.

The right behaviour, in each case:
* every call made during the shortage gets an answer from the server: a verdict, or a
  typed refusal (RESOURCE_EXHAUSTED, UNAVAILABLE); never silence until the client's
  own deadline;
* the server survives;
* once the shortage ends it serves again, without a restart;
* SIGTERM then stops it cleanly and leaves no process behind.
"""

from __future__ import annotations

import collections
import contextlib
import time

import psutil

from tests.faults import host, support
from tests.faults.support import FaultServer
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc

ADMISSION = {"max_concurrent": 4, "tenant_concurrency": 4, "reserved_for_start": 1}
POOL = {"ready_children": 2}


def good_calls(stub: pb_grpc.ToolPoolStub, version: str, count: int, *, timeout: float) -> list[support.Answer]:
    requests = [
        support.execute_request("acme", "good", version_id=version, args={"n": i}, deadline_ms=3000)
        for i in range(count)
    ]
    return support.run_concurrently(
        [lambda r=r: support.execute(stub, r, timeout=timeout) for r in requests], width=count
    )


def assert_answered(answers: list[support.Answer], what: str) -> None:
    print(f"\n{what}: {dict(collections.Counter(a.describe() for a in answers))}")
    silent = [a.describe() for a in answers if not a.from_server]
    assert not silent, f"{what}: {len(silent)} of {len(answers)} calls got no answer from the server: {silent}"
    for answer in answers:
        if not answer.is_verdict:
            assert answer.code in ("RESOURCE_EXHAUSTED", "UNAVAILABLE"), answer.describe()


def assert_recovers(stub: pb_grpc.ToolPoolStub, version: str, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        last = support.execute(
            stub, support.execute_request("acme", "good", version_id=version, args={"n": 1}), timeout=5
        )
        if last.status == "ok":
            return
        time.sleep(0.5)
    raise AssertionError(f"the server did not recover once the shortage ended; last answer: {last.describe()}")


def survive(server: FaultServer, shortage, what: str, warm_up_calls: int) -> None:
    """Warm the server up, run 8 calls inside ``shortage`` (a context manager applied to
    the server's pid), then check every call was answered, the server recovers, and
    SIGTERM leaves no process behind."""
    try:
        with server.channel() as channel:
            stub = pb_grpc.ToolPoolStub(channel)
            version = support.deploy(stub, "acme", {"tools.py": support.TOOLS}).deployed.version_id
            assert_answered(good_calls(stub, version, warm_up_calls, timeout=15), "warm-up")
            with shortage(server.pid):
                during = good_calls(stub, version, 8, timeout=15)
            assert server.alive(), server.log()[-3000:]
            assert_answered(during, what)
            assert_recovers(stub, version)
            processes = support.tree(server.pid)
        assert server.terminate() == 0
        support.assert_all_gone(processes)
    finally:
        server.kill()


@contextlib.contextmanager
def no_file_descriptor_left(pid: int):
    process = psutil.Process(pid)
    soft, hard = process.rlimit(psutil.RLIMIT_NOFILE)
    process.rlimit(psutil.RLIMIT_NOFILE, (support.fd_count(pid), hard))
    try:
        yield
    finally:
        process.rlimit(psutil.RLIMIT_NOFILE, (soft, hard))


def test_when_file_descriptors_run_out_every_call_is_answered_and_the_server_recovers(tmp_path):
    server = FaultServer(support.write_fault_config(tmp_path, pool=POOL, admission=ADMISSION))
    survive(server, no_file_descriptor_left, "with no file descriptor left", warm_up_calls=4)


def test_when_the_process_table_is_full_every_call_is_answered_and_the_server_recovers(tmp_path):
    host.require_root()
    with host.pids_cgroup() as cgroup:

        @contextlib.contextmanager
        def process_table_full(_pid: int):
            host.set_pids_max(cgroup, host.pids_current(cgroup))  # no new thread, no new process
            try:
                yield
            finally:
                host.set_pids_max(cgroup, "max")

        server = FaultServer(support.write_fault_config(tmp_path, pool=POOL, admission=ADMISSION), cgroup=cgroup)
        survive(server, process_table_full, "with the process table full", warm_up_calls=2)
