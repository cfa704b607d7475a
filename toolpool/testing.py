"""Unit tests for tools, in the customer's own pytest suite, on the real sandbox.

    from toolpool.testing import FakeHttp

    def test_greets_the_caller(run_tool):                 # the pytest fixture (below)
        result = run_tool("tool.py", "start_function", conv={"state": {"call_sid": "CA1"}},
                          secrets={"crm_api_key": "sk-test-1234"})
        assert result.ok, result.error
        assert result.action["utterance"].startswith("Welcome")

    def test_looks_the_caller_up(run_tool, fake_http):
        fake_http.add("GET /customers/by-phone", json={"name": "Ada"})
        conv = {"variants": {"main": {"api_base": fake_http.base_url}}, "variant": "main"}
        result = run_tool("tool.py", "lookup", conv=conv, http=fake_http)
        assert fake_http.requests[0].query == {"phone": "+15551230000"}

``run_tool(path_or_source, function, conv=, args=, secrets=, http=, deadline_ms=)`` compiles
with the service's own compile (``worker/compiling.py``) and runs the call in a confined
child of a private ``sandbox.supervisor.pool.Pool``, exactly as ``toolpool run`` does, and returns a
``toolpool.Result``. A tool's failure is that result's status, never an exception; a
host that cannot confine raises ``sandbox.errors.ConfinementUnavailable``. ``Sandbox``
keeps one pool for many calls; the pytest plugin (``toolpool.pytest_plugin``, installed
with toolpool) gives every test the ``run_tool`` and ``fake_http`` fixtures on one
``Sandbox`` per session, with relative paths read from the test file's directory.

**Canned HTTP.** ``FakeHttp`` is an HTTP server on 127.0.0.1 in the test process that
answers from a table. The tool's ``requests`` calls reach it through the real egress path
(the supervisor's fetch, its checks, caps and log lines): for that one call, the egress
policy names the server's address and port, which no other policy reaches unless an
operator names it. That policy is built here and only here: no service configuration,
environment variable or RPC builds it. Tools reach the server at ``fake_http.base_url``
(plain http on a random port), so write the API's base URL where a test can change it:
a variant column, as the platform's own examples do.

Trust: this module runs in the test process with the test author's rights; what it
trusts about the tool is what the supervisor trusts (nothing).
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import os
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from sandbox import result as sandbox_result
from sandbox.egress.policy import EgressPolicy
from sandbox.errors import CompileFailure
from sandbox.supervisor.call import CallRequest, requested_deadline, validate_input
from sandbox.supervisor.pool import Pool, PoolConfig
from toolpool.result import ErrorInfo, Result, Status, Usage
from worker.compiling import compile_files, missing_function, read_sources, read_tool_files
from worker.pools import start_pool

TENANT = "test"

ToolSource = Union[str, "os.PathLike[str]", Mapping[str, str]]
"""A path to a tool file or directory, the source text of one tool, or a bundle {name: source}."""


# -- canned HTTP ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One request the tool made, as the fake server received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Response:
    """A canned answer. Give ``json``, ``text`` or ``body`` (or none: an empty body)."""

    status: int = 200
    json: Any = None
    text: str | None = None
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if self.json is not None:
            return json.dumps(self.json).encode(), "application/json"
        if self.text is not None:
            return self.text.encode(), "text/plain; charset=utf-8"
        return self.body or b"", "application/octet-stream"


Answer = Response | Mapping[str, Any] | Callable[[Request], Response]
"""A ``Response``, its fields as a dict (``{"json": {...}}``), or a function of the ``Request``."""


def _route_key(route: str) -> tuple[str | None, str]:
    """``"GET /path"`` -> ("GET", "/path"); ``"/path"`` -> (None, "/path"): any method."""
    method, _, path = route.strip().rpartition(" ")
    if not path.startswith("/"):
        raise ValueError(f"route {route!r}: expected 'METHOD /path' or '/path'")
    return (method.upper() or None), path


class FakeHttp:
    """A local HTTP server answering from a table of routes; a context manager.

    ``FakeHttp({"GET /customers/1": {"json": {...}}})``, or ``add(route, json=...)`` later.
    A route is ``"METHOD /path"`` or ``"/path"`` (any method), matched on the path without
    its query string; an answer is a ``Response``, or a function of the ``Request`` that
    returns one. Anything else gets 404 with a body naming the routes there are.
    ``requests`` lists what the tool sent, in order.
    """

    def __init__(self, routes: Mapping[str, Answer] | None = None):
        self._routes: dict[tuple[str | None, str], Response | Callable[[Request], Response]] = {}
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._server: http.server.ThreadingHTTPServer | None = None
        for route, answer in (routes or {}).items():
            self.add(route, answer)

    def add(self, route: str, answer: Answer | None = None, **response: Any) -> None:
        """Serve ``answer`` (or ``Response(**response)``: ``status``, ``json``, ``text``...) at ``route``."""
        if answer is None:
            answer = Response(**response)
        elif response:
            raise TypeError("give a Response (or a function) or its fields, not both")
        elif isinstance(answer, Mapping):
            answer = Response(**answer)
        with self._lock:
            self._routes[_route_key(route)] = answer

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake server is not running: use it as a context manager or call start()")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeHttp:
        if self._server is None:
            self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
            self._server.daemon_threads = True
            threading.Thread(target=self._server.serve_forever, name="toolpool-fake-http", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeHttp:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def answer(self, request: Request) -> Response:
        """The canned response for ``request`` (records it)."""
        with self._lock:
            self._requests.append(request)
            answer = self._routes.get((request.method, request.path)) or self._routes.get((None, request.path))
            known = sorted(f"{m or '*'} {p}" for m, p in self._routes)
        if answer is None:
            return Response(
                status=404, json={"error": f"no canned response for {request.method} {request.path}", "routes": known}
            )
        return answer(request) if callable(answer) else answer

    def egress_policy(self) -> EgressPolicy:
        """The one policy that reaches this server: its loopback address and port, nothing else."""
        return EgressPolicy().with_address("127.0.0.1", ports=[self.port])


def _handler_for(fake: FakeHttp) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass  # the tool's own log has a line per request

        def do_GET(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            url = urllib.parse.urlsplit(self.path)
            request = Request(
                method=self.command,
                path=url.path,
                query=dict(urllib.parse.parse_qsl(url.query)),
                headers=dict(self.headers.items()),
                body=self.rfile.read(length) if length else b"",
            )
            response = fake.answer(request)
            body, content_type = response.encoded()
            self.send_response(response.status)
            headers = {
                "Content-Type": content_type,
                **response.headers,
                "Content-Length": str(len(body)),
                "Connection": "close",
            }
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    return Handler


# -- running a tool ----------------------------------------------------------------------------


def _bundle_files(tool: ToolSource, base_dir: Path | None) -> tuple[dict[str, str], str]:
    """(bundle name -> source, what to call it in messages)."""
    if isinstance(tool, Mapping):
        return dict(tool), "the bundle"
    if isinstance(tool, str) and not (tool.endswith(".py") and "\n" not in tool):
        return {"tool.py": tool}, "the tool"
    path = Path(tool)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    files = read_sources(read_tool_files([path]))
    return files, (path.name if path.is_file() else str(path))


def _public(result: sandbox_result.Result) -> Result:
    """The supervisor's Result as ``toolpool.Result``, field for field."""
    error = ErrorInfo(**dataclasses.asdict(result.error)) if result.error else None
    return Result(
        status=Status(result.status.value),
        action=result.action,
        state=result.state,
        state_changes=result.state_changes,
        logs=result.logs,
        error=error,
        usage=Usage(**dataclasses.asdict(result.usage)),
    )


def _failed(
    status: Status,
    kind: str,
    message: str,
    conv: Mapping[str, Any] | None,
    file: str | None = None,
    line: int | None = None,
) -> Result:
    state = (conv or {}).get("state")
    return Result(
        status=status,
        state=dict(state) if isinstance(state, Mapping) else {},
        error=ErrorInfo(kind=kind, message=message, file=file, line=line),
    )


class Sandbox:
    """A private confined pool for running tools in tests; a context manager.

    Starting it costs a template process and the confinement self-test (about half a
    second); each ``run`` then costs one fresh confined child, as on the service.
    """

    def __init__(self) -> None:
        self._pool = Pool(PoolConfig(ready_children=1))
        self._started = False

    def start(self) -> Sandbox:
        if not self._started:
            start_pool(self._pool)  # its template out of the terminal's Ctrl-C (worker/pools.py)
            self._started = True
        return self

    def close(self) -> None:
        self._pool.close()
        self._started = False

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def run(
        self,
        tool: ToolSource,
        function: str,
        *,
        conv: Mapping[str, Any] | None = None,
        args: Any = None,
        secrets: Mapping[str, str] | None = None,
        http: FakeHttp | None = None,
        deadline_ms: int | None = None,
        base_dir: str | os.PathLike[str] | None = None,
    ) -> Result:
        """Run ``function`` of ``tool`` once; see the module docstring. ``conv`` is the
        conv.json shape (its ``secrets`` key included); ``secrets`` are added to those.
        Without ``http`` the tool has no egress, as a tenant without a policy. Raises
        ``ToolFilesError`` for a path that cannot be read and ``InvalidInput`` for a
        malformed ``conv`` or ``args``, naming the field."""
        files, where = _bundle_files(tool, Path(base_dir) if base_dir is not None else None)
        try:
            bundle = compile_files(files, self.start()._pool)
        except CompileFailure as failure:
            return _failed(Status.COMPILE_ERROR, failure.kind, failure.message, conv, failure.file, failure.line)
        missing = missing_function(bundle, function, where)
        if missing:
            return _failed(Status.NOT_FOUND, "NotFound", missing, conv)
        request = CallRequest(
            tenant=TENANT,
            bundle=bundle,
            function=function,
            input=validate_input(conv, args),
            secrets=dict(secrets or {}),
            deadline=requested_deadline(deadline_ms),
            egress=http.egress_policy() if http is not None else None,
        )
        return _public(self.start()._pool.execute(request))


def run_tool(
    tool: ToolSource,
    function: str,
    *,
    conv: Mapping[str, Any] | None = None,
    args: Any = None,
    secrets: Mapping[str, str] | None = None,
    http: FakeHttp | None = None,
    deadline_ms: int | None = None,
) -> Result:
    """Run one call on a sandbox of its own (started and stopped here). For many calls,
    use the ``run_tool`` fixture or a ``Sandbox``, which start the pool once."""
    with Sandbox() as sandbox:
        return sandbox.run(tool, function, conv=conv, args=args, secrets=secrets, http=http, deadline_ms=deadline_ms)
