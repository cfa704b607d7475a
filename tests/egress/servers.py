"""A local HTTP(S) server on loopback for the egress tests, and a resolver to inject.

The server runs in the test process on 127.0.0.1, port 0. Every request it receives is
recorded (``hits``), so an attack test can prove that nothing reached it. Routes:

    /json                 {"hello": "world", "n": 1}
    /echo                 the request as JSON: method, path, headers, body
    /status/CODE          that status, body "status CODE"
    /redirect?to=URL&code=302          a redirect (relative or absolute)
    /huge?bytes=N         N bytes with a Content-Length
    /endless              a chunked body that never ends
    /drip?every=S         Content-Length 100000, then one byte every S seconds
    /drip-headers?every=S the status line and headers, one byte every S seconds
    /slow?delay=S         waits S seconds, then /json

A handler that streams stops when the client goes away or after ``_STREAM_MAX_S``.
"""

from __future__ import annotations

import http.server
import json
import ssl
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

CERTS = Path(__file__).resolve().parent / "certs"
CA_PEM = (CERTS / "ca.pem").read_text()
TLS_HOST = "api.tls.test"  # the name in certs/server.pem

_STREAM_MAX_S = 20.0


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LocalServer

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.hits.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers.items()), "body": body}
        )
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        route = url.path.split("/")[1] if url.path.count("/") else ""
        handler = getattr(self, f"route_{route.replace('-', '_')}", None)
        if handler is None:
            return self.reply(404, b"no such route", "text/plain")
        try:
            handler(url.path, query, body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass  # the client went away: the fetch stopped reading, as it should

    def reply(
        self, status: int, body: bytes, content_type: str = "application/json", extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def route_json(self, path: str, query: dict, body: bytes) -> None:
        self.reply(200, json.dumps({"hello": "world", "n": 1}).encode())

    def route_echo(self, path: str, query: dict, body: bytes) -> None:
        echo = {
            "method": self.command,
            "path": self.path,
            "headers": dict(self.headers.items()),
            "body": body.decode("utf-8", "replace"),
        }
        self.reply(200, json.dumps(echo).encode())

    def route_status(self, path: str, query: dict, body: bytes) -> None:
        code = int(path.split("/")[2])
        self.reply(code, f"status {code}".encode(), "text/plain")

    def route_redirect(self, path: str, query: dict, body: bytes) -> None:
        self.reply(int(query.get("code", 302)), b"", "text/plain", {"Location": query["to"]})

    def route_huge(self, path: str, query: dict, body: bytes) -> None:
        size = int(query["bytes"])
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = b"\0" * 65536
        while size > 0:
            self.wfile.write(chunk[:size])
            size -= len(chunk)

    def route_endless(self, path: str, query: dict, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"x" * 65536
        started = time.monotonic()
        while time.monotonic() - started < _STREAM_MAX_S:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    def route_drip(self, path: str, query: dict, body: bytes) -> None:
        every = float(query.get("every", 0.05))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.flush()
        self._drip(b"x" * 100000, every)

    def route_drip_headers(self, path: str, query: dict, body: bytes) -> None:
        every = float(query.get("every", 0.05))
        self._drip(b"HTTP/1.1 200 OK\r\n" + b"X-Drip: " + b"a" * 60000 + b"\r\n", every)

    def _drip(self, data: bytes, every: float) -> None:
        started = time.monotonic()
        for index in range(len(data)):
            if time.monotonic() - started > _STREAM_MAX_S:
                return
            self.wfile.write(data[index : index + 1])
            self.wfile.flush()
            time.sleep(every)

    def route_slow(self, path: str, query: dict, body: bytes) -> None:
        time.sleep(float(query.get("delay", 1.0)))
        self.route_json(path, query, body)


class LocalServer(http.server.ThreadingHTTPServer):
    """The local server: ``url(path)``, ``hits``, ``hits_for(token)``; TLS with ``tls=True``."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, tls: bool = False):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hits: list[dict[str, Any]] = []
        self.sni: list[str | None] = []
        self.tls = tls
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(CERTS / "server.pem", CERTS / "server.key")
            context.sni_callback = lambda sock, name, ctx: self.sni.append(name)
            self.socket = context.wrap_socket(self.socket, server_side=True)
        self._thread = threading.Thread(target=self.serve_forever, name="egress-test-server", daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def hits_for(self, token: str) -> list[dict[str, Any]]:
        return [hit for hit in self.hits if token in hit["path"]]


class Resolver:
    """A resolver to inject into an ``EgressPolicy``: name -> addresses, every call recorded.

    ``then`` gives the answers of later calls, to play a rebinding DNS server.
    """

    def __init__(self, answers: dict[str, list[str]], then: dict[str, list[str]] | None = None):
        self.answers = answers
        self.then = then or {}
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        first = host not in self.calls
        self.calls.append(host)
        table = self.answers if first or host not in self.then else self.then
        if host not in table:
            raise OSError(f"test resolver: no such host {host}")
        return table[host]
