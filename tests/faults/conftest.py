"""An in-process server on port 0 for the fault tests that reach into its pool.

Faults that must see the pool from inside (which child is busy, which pid is the
template) use this server; faults that kill or starve the server itself use
``support.FaultServer``, a subprocess.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest

from tests.faults import support
from tests.integration.harness import make_server
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc
from worker.server import ToolpoolServer

READY = 2


@dataclass
class Live:
    server: ToolpoolServer
    channel: grpc.Channel
    stub: pb_grpc.ToolPoolStub
    version: str

    def request(self, function: str, **kwargs):
        return support.execute_request("acme", function, version_id=self.version, **kwargs)

    def call(self, function: str, timeout: float = 15.0, **kwargs) -> support.Answer:
        return support.execute(self.stub, self.request(function, **kwargs), timeout=timeout)


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[Live]:
    server = make_server(
        tmp_path_factory.mktemp("faults"),
        pool={"ready_children": READY},
        admission={"max_concurrent": 8, "tenant_concurrency": 8, "reserved_for_start": 1},
    )
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    stub = pb_grpc.ToolPoolStub(channel)
    try:
        version = support.deploy(stub, "acme", {"tools.py": support.TOOLS}).deployed.version_id
        yield Live(server, channel, stub, version)
    finally:
        channel.close()
        server.stop(grace_s=5)
