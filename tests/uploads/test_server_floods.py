"""Floods against a real server process (issue 16), with the evidence read from outside:
the server's resident memory sampled while the flood runs, and another tenant's calls.

* A flood of compile bombs from one tenant: every bomb is a compile error naming its
  limit (or RESOURCE_EXHAUSTED with a retry hint when that tenant's queue is full), the
  server's RSS grows by less than 64 MiB, and another tenant's calls all succeed.
* A flood of distinct, valid uploads: the server's RSS grows by less than its cache budget.

Latency under the flood is a timing, so it is measured in bench/ (``hostile-compile``).
"""

from __future__ import annotations

import threading

import grpc
import pytest

from tests.faults import support
from tests.faults.support import FaultServer
from tests.uploads.bombs import BOMBS, LIMITS
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc

pytestmark = pytest.mark.serial  # the server's RSS

MiB = 1024 * 1024


def deploy(stub, tenant, files, **kwargs):
    return support.deploy(stub, tenant, files, token=support.ANY_TOKEN, **kwargs)


def greet(stub, version):
    """acme's start_function: the greeting another tenant's flood must not break."""
    return support.execute(
        stub, support.execute_request("acme", "start_function", version_id=version), token=support.ANY_TOKEN
    )


CACHE_BYTES = 128 * MiB  # the default budget
GREETING = "def start_function(conv):\n    return {'utterance': 'hello'}\n"


class PeakRss:
    """Samples a process's RSS every few milliseconds until stopped; keeps the peak."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak = support.rss_bytes(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, support.rss_bytes(self.pid))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(5)
        return self.peak


@pytest.fixture
def server(tmp_path):
    running = FaultServer(
        support.write_fault_config(tmp_path, pool={"ready_children": 2}, cache={"bytes": CACHE_BYTES})
    )
    try:
        yield running
    finally:
        running.kill()


def settled_rss(server: FaultServer, stub: pb_grpc.ToolPoolStub, version: str) -> int:
    """The server's RSS after it has served a few calls and compiled a few bundles (its
    lazily built state exists), the largest of a few samples."""
    for n in range(10):
        deploy(stub, "warm", {"tools.py": GREETING + f"X = {n}\n"})
        assert greet(stub, version).status == "ok"
    return max(support.rss_bytes(server.pid) for _ in range(5))


def test_a_flood_of_compile_bombs_leaves_the_server_small_and_another_tenant_served(server):
    stub = pb_grpc.ToolPoolStub(server.channel())
    version = deploy(stub, "acme", {"tools.py": GREETING}).deployed.version_id
    before = settled_rss(server, stub, version)
    sampler = PeakRss(server.pid)
    bombs = [
        BOMBS[n][0]
        for n in (
            "nested_finally_19",
            "nested_finally_24",
            "code_size_one_file",
            "code_size_many_files",
            "nested_unary",
        )
    ] * 8
    verdicts: list[str] = []
    greetings: list[str] = []

    def bomb(files: dict[str, str]) -> None:
        try:
            response = deploy(stub, "mallory", files, timeout=60)
        except grpc.RpcError as error:
            assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED, error
            assert dict(error.trailing_metadata()).get("retry-after-ms"), "a refusal carries a retry hint"
            verdicts.append("refused")
            return
        assert response.WhichOneof("outcome") == "compile_errors", response
        verdicts.append(response.compile_errors.errors[0].message)

    def greet_all() -> None:
        for _ in range(20):
            greetings.append(greet(stub, version).describe())

    caller = threading.Thread(target=greet_all)
    caller.start()
    support.run_concurrently([lambda files=files: bomb(files) for files in bombs], width=8)
    caller.join(60)
    peak = sampler.stop()
    assert greetings == ["ok()"] * 20
    assert len(verdicts) == len(bombs)
    assert all(v == "refused" or any(limit in v for limit in LIMITS) for v in verdicts), verdicts
    assert peak - before < 64 * MiB, f"the server grew by {(peak - before) / MiB:.1f} MiB under the flood"
    assert server.alive()


def test_a_flood_of_distinct_uploads_grows_the_server_by_less_than_its_cache_budget(server):
    stub = pb_grpc.ToolPoolStub(server.channel())
    version = deploy(stub, "acme", {"tools.py": GREETING}).deployed.version_id
    before = settled_rss(server, stub, version)
    sampler = PeakRss(server.pid)
    padding = "x" * 120_000

    def upload(n: int) -> None:  # ~240 KB each as a bundle (source and code): ~145 MB in all
        files = {"tools.py": GREETING + f"PAD = '{padding}{n}'\n"}
        assert deploy(stub, "mallory", files, timeout=60).WhichOneof("outcome") == "deployed"

    support.run_concurrently([lambda n=n: upload(n) for n in range(600)], width=2)
    peak = sampler.stop()
    assert peak - before < CACHE_BYTES, (
        f"the server grew by {(peak - before) / MiB:.1f} MiB for a {CACHE_BYTES // MiB} MiB cache budget"
    )
    answer = greet(stub, version)
    assert answer.status == "ok"
