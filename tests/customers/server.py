"""The corpus's canned HTTP server: the customers' APIs, answered from the specs.

One server on 127.0.0.1 (port 0) serves every route declared in the case files
(``cases/*.json``, key ``routes``). Both runs of a case reach it: the CPython run through
the stand-in's ``requests`` (its resolver maps the tool's host names to 127.0.0.1), the
sandbox run through the supervisor's egress (``local_policy`` names 127.0.0.1 and maps the
same names to it). So both see the same answers.

A route::

    {"method": "GET", "host": "api.tablebook.test", "path": "/v1/slots",
     "query": {"date": "2026-05-02"},          optional: these query values must match
     "body": {"party_size": 4},                optional: the JSON body must contain these
     "headers": {"Authorization": "Bearer x"}, optional: these headers must be present
     "status": 200, "json": {...} | "text": "...", "delay": 1.5}

The first route that matches answers. Anything unmatched answers 404 with a JSON body
saying what was asked, so a tool that sends the wrong thing sees an error in both runs.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import urllib.parse
from typing import Any


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: CannedServer

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urllib.parse.urlsplit(self.path)
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.server.hits.append(
            {
                "method": self.command,
                "host": host,
                "path": url.path,
                "query": query,
                "headers": dict(self.headers.items()),
                "body": raw.decode("utf-8", "replace"),
            }
        )
        route = self.server.match(self.command, host, url.path, query, body, self.headers)
        if route is None:
            detail = {
                "error": "no canned route",
                "method": self.command,
                "host": host,
                "path": url.path,
                "query": query,
                "body": raw.decode("utf-8", "replace"),
            }
            return self._reply(404, json.dumps(detail).encode(), "application/json")
        if route.get("delay"):
            time.sleep(float(route["delay"]))
        if "json" in route:
            payload, content_type = json.dumps(route["json"]).encode(), "application/json"
        else:
            payload, content_type = str(route.get("text", "")).encode(), "text/plain; charset=utf-8"
        try:
            self._reply(int(route.get("status", 200)), payload, content_type)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout case)

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _contains(have: Any, want: Any) -> bool:
    """``want`` is a subset of ``have``: dicts recursively, everything else by equality."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(k in have and _contains(have[k], v) for k, v in want.items())
    return have == want


class CannedServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, routes: list[dict[str, Any]] | None = None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: list[dict[str, Any]] = list(routes or [])
        self.hits: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self.serve_forever, name="customers-canned-api", daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def start(self) -> CannedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def match(self, method: str, host: str, path: str, query: dict, body: Any, headers: Any) -> dict | None:
        for route in self.routes:
            if route.get("method", "GET").upper() != method or route["host"].lower() != host:
                continue
            if route["path"] != path:
                continue
            if any(query.get(k) != str(v) for k, v in (route.get("query") or {}).items()):
                continue
            if "body" in route and not _contains(body, route["body"]):
                continue
            if any(headers.get(k) != v for k, v in (route.get("headers") or {}).items()):
                continue
            return route
        return None
