"""The transport baseline: a bare gRPC server with one generic bytes method.

    python -m bench.echo_server [--port 0] [--threads 32]

No proto: ``grpc.method_handlers_generic_handler`` with a unary_unary handler on raw
bytes. A request is a 4-byte big-endian reply size followed by any bytes (the bench
sends toolpool's serialized ExecuteRequest); the reply is that many bytes, so request
and response sizes match toolpool's. It checks the bearer metadata is present, like a
real servicer reads it. Prints ``{"event": "serving", "port": N}`` and serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import struct
import sys
import threading
from concurrent import futures

import grpc

_replies: dict[int, bytes] = {}


def echo(request: bytes, context: grpc.ServicerContext) -> bytes:
    (size,) = struct.unpack_from(">I", request)
    if not any(k == "authorization" for k, _ in context.invocation_metadata()):
        context.abort(grpc.StatusCode.UNAUTHENTICATED, "no token")
    reply = _replies.get(size)
    if reply is None:
        reply = _replies.setdefault(size, b"r" * size)
    return reply


def main() -> int:
    parser = argparse.ArgumentParser(description="bare gRPC echo server (transport baseline)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--threads", type=int, default=32)
    args = parser.parse_args()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=args.threads),
        options=[
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", 8 * 1024 * 1024),
            ("grpc.max_send_message_length", 8 * 1024 * 1024),
        ],
    )
    handler = grpc.method_handlers_generic_handler("bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)})
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port(f"127.0.0.1:{args.port}")
    server.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    sys.stdout.write(json.dumps({"event": "serving", "port": port}) + "\n")
    sys.stdout.flush()
    while not stop.wait(1.0):
        pass
    server.stop(grace=1).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
