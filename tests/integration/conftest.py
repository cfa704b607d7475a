"""The real server for integration tests, in-process on port 0 (see harness.py for helpers).

The pool is the real confined pool: if the host cannot confine, the server refuses to
start and these tests fail saying why (they never skip).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest

from tests.integration.harness import make_server
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc
from worker.server import ToolpoolServer


@dataclass
class Running:
    server: ToolpoolServer
    channel: grpc.Channel
    stub: pb_grpc.ToolPoolStub

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server.port}"


@pytest.fixture(scope="module")
def running(tmp_path_factory) -> Iterator[Running]:
    """One in-process server per test module, stopped (drained) at the end."""
    directory = tmp_path_factory.mktemp("server")
    server = make_server(directory)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield Running(server, channel, pb_grpc.ToolPoolStub(channel))
    finally:
        channel.close()
        server.stop(grace_s=5)
