"""One request of a child, end to end: resolution, the address checks, the hops, the answer.

Runs in the trusted supervisor, in the thread that runs the call, while the child waits
for the answer: the pool (sandbox/supervisor/pool.py) calls ``serve`` for each
``{"op": "http"}`` frame. ``serve`` checks the request (request.py), counts it against the
call's cap, and runs it hop by hop (``_Fetch``): for the URL and each redirect it is
allowed to follow, a rule must allow the URL (policy.py), the host is resolved once
(``resolve``), EVERY address it resolves to is checked (``check_addresses``), and the
connection goes to a checked address (connection.py). The steps, and the error kind each
can end in, are drawn in sandbox/egress/__init__.py.

Every failure is an ``EgressError``, which ``serve`` turns into the answer in one place;
nothing a child sends makes it raise. Each hop leaves one log line in the call's
``EgressRecord``, with the call's secrets redacted in any letter case, and no wait
outlasts ``request_deadline``: the call's deadline less a reserve for the tool to answer.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import logging
import re
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sandbox.egress.addresses import IPAddress
from sandbox.egress.connection import PinnedConnection, Wait, tls_context
from sandbox.egress.errors import EgressError, EgressRecord
from sandbox.egress.policy import SCHEMES, AddressRule, EgressPolicy, HostRule, address_refusal
from sandbox.egress.reads import ReadLimit, ResponseBudget
from sandbox.egress.request import METHODS, Ask, Target, check_request, parse_url

log = logging.getLogger("toolpool.egress")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

_READ_CHUNK = 64 * 1024
_LOG_DETAIL_CHARS = 300
_RESERVE_FRACTION = 0.1
_RESERVE_MIN_S = 0.02
_RESERVE_MAX_S = 0.2
_USER_AGENT = "toolpool-requests/1"

_CROSS_ORIGIN_DROPPED = frozenset({"authorization", "cookie", "proxy-authorization"})


# ---------------------------------------------------------------------------------------
# Resolution, and the checks of what it found
# ---------------------------------------------------------------------------------------


# Lookups in flight, process-wide. A lookup the deadline abandoned runs on until the
# resolver's own timeout (up to ~30 s with resolv.conf defaults), so a tenant whose DNS
# zone never answers could otherwise pile up threads; past this, requests are refused.
_LOOKUPS_IN_FLIGHT = threading.BoundedSemaphore(64)


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]  # an IP address string, for these families


MAX_ADDRESSES = 32
"""Addresses one lookup may answer with (each is checked against the policy)."""
MAX_LOOKUP_S = 5.0
"""The longest one lookup may take, within the call's deadline."""


def resolve(policy: EgressPolicy, target: Target, until: float) -> list[IPAddress]:
    """Every address of the target's host, found once, within the deadline and
    ``MAX_LOOKUP_S``, at most ``MAX_ADDRESSES`` of them.

    A resolver cannot be interrupted, so it runs in a daemon thread that is abandoned
    (it ends on its own, at the resolver's timeout) when the time is up first.
    """
    if target.literal is not None:
        return [target.literal]
    resolver = policy.resolver or _system_resolver
    outcome: dict[str, Any] = {}

    def lookup() -> None:
        try:
            outcome["addresses"] = list(resolver(target.host, target.port))
        except BaseException as exc:  # noqa: BLE001 - reported to the waiting thread below
            outcome["error"] = exc
        finally:
            _LOOKUPS_IN_FLIGHT.release()

    if not _LOOKUPS_IN_FLIGHT.acquire(timeout=max(min(until - time.monotonic(), 0.1), 0.0)):
        raise EgressError("connect_timeout", f"cannot resolve {target.host} now: too many DNS lookups in flight")
    thread = threading.Thread(target=lookup, name="toolpool-egress-resolve", daemon=True)
    try:
        thread.start()
    except BaseException:
        _LOOKUPS_IN_FLIGHT.release()
        raise
    started = time.monotonic()
    thread.join(max(min(until, started + MAX_LOOKUP_S) - started, 0.0))
    if thread.is_alive():
        if until <= started + MAX_LOOKUP_S:
            raise EgressError("connect_timeout", f"resolving {target.host} did not finish before the call's deadline")
        raise EgressError("connect_timeout", f"resolving {target.host} took more than {MAX_LOOKUP_S:g} s")
    if "error" in outcome:
        raise EgressError("connection", f"cannot resolve {target.host}: {outcome['error']}")
    answers = outcome.get("addresses") or ()
    if len(answers) > 4 * MAX_ADDRESSES:  # before parsing: getaddrinfo repeats each per socket type
        raise EgressError(
            "connection",
            f"{target.host} resolves to {len(answers)} answers; at most {MAX_ADDRESSES} addresses are accepted",
        )
    addresses: list[IPAddress] = []
    for text in answers:
        try:
            address = ipaddress.ip_address(str(text).split("%")[0])
        except ValueError:
            raise EgressError("connection", f"the resolver gave {target.host} an invalid address") from None
        if address not in addresses:
            addresses.append(address)
    if len(addresses) > MAX_ADDRESSES:
        raise EgressError(
            "connection", f"{target.host} resolves to {len(addresses)} addresses; at most {MAX_ADDRESSES} are accepted"
        )
    if not addresses:
        raise EgressError("connection", f"{target.host} has no address")
    return addresses


def check_addresses(
    policy: EgressPolicy, target: Target, addresses: Sequence[IPAddress], url_rule: HostRule | AddressRule
) -> None:
    """Refuse the hop unless EVERY address may be reached (one bad answer refuses the host)."""
    for address in addresses:
        why = address_refusal(policy, address, target.port, url_rule)
        if why is None:
            continue
        if target.literal is not None:
            raise EgressError("refused", f"{target.host} is not reachable: {why}")
        raise EgressError("refused", f"{target.host} resolves to {address}, which is not reachable: {why}")


# ---------------------------------------------------------------------------------------
# The hops of one request
# ---------------------------------------------------------------------------------------


@dataclass
class _Hop:
    """One response: status, headers, body (empty for a redirect that is followed)."""

    target: Target
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    elapsed_ms: float = 0.0


class _Fetch:
    """One request of the child, hop by hop. Raises EgressError; records every hop."""

    def __init__(
        self,
        policy: EgressPolicy,
        record: EgressRecord,
        until: float,
        secrets: Sequence[str],
        redact: Callable[[str], str],
    ):
        self.policy = policy
        self.record = record
        self.until = until
        self.secrets = [s for s in secrets if len(s) >= 4]
        self.redact = redact
        self.budget = ResponseBudget(policy.max_response_bytes, record.response_bytes)

    def run(self, ask: Ask) -> tuple[_Hop, list[_Hop]]:
        method, target, headers, body = ask.method, ask.target, list(ask.headers), ask.body
        history: list[_Hop] = []
        while True:
            hop = self.hop(method, target, headers, body, ask)
            location = hop.headers and _header(hop.headers, "location")
            if not (ask.follow_redirects and hop.status in REDIRECT_STATUSES and location):
                return hop, history
            history.append(hop)
            if len(history) > self.policy.max_redirects:
                raise self.refuse_redirect(
                    method,
                    target,
                    EgressError(
                        "too_many_redirects",
                        f"more than {self.policy.max_redirects} redirects, the last from {target.host}",
                    ),
                )
            try:
                following = parse_url(urllib.parse.urljoin(target.url, location))
            except EgressError as exc:
                raise self.refuse_redirect(
                    method, target, EgressError(exc.kind, f"redirect from {target.host}: {exc.message}")
                ) from None
            method, body, headers = _redirected(method, hop.status, body, headers)
            if following.origin != target.origin:
                headers = self.without_credentials(headers)
            target = following

    def refuse_redirect(self, method: str, target: Target, error: EgressError) -> EgressError:
        """A redirect not followed: logged, but no request was made, so none is counted."""
        self.note(method, target, error.kind, time.monotonic(), error.message)
        error.noted = True
        return error

    def without_credentials(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Headers for another origin: no Authorization or Cookie, and no header carrying one
        of the call's secrets, which the tool addressed to the first origin only."""
        return [
            (n, v)
            for n, v in headers
            if n.lower() not in _CROSS_ORIGIN_DROPPED and not any(s in v for s in self.secrets)
        ]

    def hop(self, method: str, target: Target, headers: list[tuple[str, str]], body: bytes | None, ask: Ask) -> _Hop:
        if self.record.requests >= self.policy.max_requests:
            raise EgressError(
                "request_limit",
                f"the call's cap of {self.policy.max_requests} HTTP requests is reached (request to {target.host})",
            )
        self.record.requests += 1
        started = time.monotonic()
        try:
            hop = self.exchange(method, target, headers, body, ask)
        except EgressError as exc:
            self.note(method, target, exc.kind, started, exc.message)
            exc.noted = True
            raise
        finally:
            self.record.response_bytes = self.budget.used
        hop.elapsed_ms = (time.monotonic() - started) * 1000.0
        self.note(method, target, str(hop.status), started)
        return hop

    def exchange(
        self, method: str, target: Target, headers: list[tuple[str, str]], body: bytes | None, ask: Ask
    ) -> _Hop:
        url_rule = self.policy.rule_for(target.scheme, target.host, target.port, target.literal)
        if self.until - time.monotonic() <= 0:
            raise EgressError("connect_timeout", f"no time is left before the call's deadline for {target.host}")
        addresses = resolve(self.policy, target, self.until)
        check_addresses(self.policy, target, addresses, url_rule)
        tls = tls_context(self.policy.ca_pem) if target.scheme == "https" else None
        wait = Wait(self.until, ask.read_timeout, self.budget)
        connection = self.connect(target, addresses, wait, ask.connect_timeout, tls)
        try:
            return self.converse(connection, wait, method, target, headers, body, ask.follow_redirects)
        finally:
            connection.close()

    def connect(
        self,
        target: Target,
        addresses: Sequence[IPAddress],
        wait: Wait,
        connect_timeout: float | None,
        tls: ssl.SSLContext | None,
    ) -> PinnedConnection:
        failures = []
        for address in addresses:
            connection = PinnedConnection(
                target.host, target.port, SCHEMES[target.scheme], address, wait, connect_timeout, tls
            )
            try:
                connection.connect()
                return connection
            except ssl.SSLCertVerificationError as exc:
                raise EgressError(
                    "ssl", f"the certificate of {target.host} did not verify: {exc.verify_message or exc.reason}"
                ) from None
            except ssl.SSLError as exc:
                raise EgressError("ssl", f"TLS with {target.host} failed: {exc.reason or exc}") from None
            except TimeoutError:
                raise self.timed_out(
                    "connect_timeout", f"connecting to {target.host}", connection.connect_wait, connect_timeout
                ) from None
            except OSError as exc:
                failures.append(f"{address}: {exc.strerror or exc}")
        raise EgressError("connection", f"cannot connect to {target.host} ({'; '.join(failures)})")

    def converse(
        self,
        connection: PinnedConnection,
        wait: Wait,
        method: str,
        target: Target,
        headers: list[tuple[str, str]],
        body: bytes | None,
        follow: bool,
    ) -> _Hop:
        sent = {name.lower() for name, _ in headers}
        extra = [("User-Agent", _USER_AGENT)] if "user-agent" not in sent else []
        extra += [("Accept", "*/*")] if "accept" not in sent else []
        try:
            connection.putrequest(method, target.path)  # adds Host and Accept-Encoding: identity
            for name, value in headers + extra + [("Connection", "close")]:
                connection.putheader(name, value)
            if body is not None or method in ("POST", "PUT", "PATCH"):
                connection.putheader("Content-Length", str(len(body or b"")))
            connection.endheaders(body)
            response = connection.getresponse()
            received = [(name, value) for name, value in response.getheaders()]
            hop = _Hop(target, response.status, response.reason or "", received)
            if not (follow and response.status in REDIRECT_STATUSES and _header(received, "location")):
                hop.body = self.read_body(response, target)
            return hop
        except TimeoutError:
            raise self.timed_out("read_timeout", f"reading from {target.host}", wait, wait.per_wait) from None
        except ReadLimit as exc:
            if exc.over_cap:
                raise self.too_large(target, str(exc)) from None
            raise EgressError("too_large", f"the response from {target.host} {exc}") from None
        except (http.client.HTTPException, ValueError) as exc:
            raise EgressError(
                "connection", f"{target.host} broke HTTP: {type(exc).__name__}: {exc}"[:_LOG_DETAIL_CHARS]
            ) from None
        except ssl.SSLError as exc:
            raise EgressError("ssl", f"TLS with {target.host} failed: {exc.reason or exc}") from None
        except OSError as exc:
            raise EgressError("connection", f"the connection to {target.host} failed: {exc.strerror or exc}") from None

    def read_body(self, response: http.client.HTTPResponse, target: Target) -> bytes:
        """The body; every byte was counted by the socket as it came (``ResponseBudget``)."""
        left = self.budget.cap - self.budget.used
        if response.length is not None and response.length > left:
            raise self.too_large(target, f"announces {response.length} bytes")
        chunks: list[bytes] = []
        while True:
            chunk = response.read1(_READ_CHUNK)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)

    def too_large(self, target: Target, what: str) -> EgressError:
        return EgressError(
            "too_large",
            f"the response from {target.host} {what}: the call's cap is "
            f"{self.policy.max_response_bytes} response bytes "
            f"({self.budget.used} used)",
        )

    def timed_out(self, kind: str, doing: str, wait: Wait, tool_timeout: float | None) -> EgressError:
        if wait.deadline_bound or tool_timeout is None:
            return EgressError(kind, f"{doing} did not finish before the call's deadline")
        return EgressError(kind, f"{doing} timed out (timeout={tool_timeout:g} s)")

    def note(self, method: str, target: Target, status: str, started: float, detail: str = "") -> None:
        ms = (time.monotonic() - started) * 1000.0
        _note(self.record, self.redact, method, target.netloc, status, ms, detail)


def _note(
    record: EgressRecord, redact: Callable[[str], str], method: str, host: str, status: str, ms: float, detail: str = ""
) -> None:
    """One log line for one request: method, host, status (or error kind), time."""
    line = f"http {method} {host} {status} {ms:.1f} ms"
    if detail:
        line += f": {detail[:_LOG_DETAIL_CHARS]}"
    line = redact(line) or ""
    record.lines.append(("info" if status.isdigit() else "warning", line))
    log.debug("egress %s", line)


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _redirected(
    method: str, status: int, body: bytes | None, headers: list[tuple[str, str]]
) -> tuple[str, bytes | None, list[tuple[str, str]]]:
    """The next hop's method, body and headers, as browsers and requests do: 303 becomes
    GET (HEAD stays), and so do 301/302 after a POST; 307/308 keep method and body."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        dropped = {"content-type"}
        return "GET", None, [(n, v) for n, v in headers if n.lower() not in dropped]
    return method, body, headers


def _answer(hop: _Hop, history: list[_Hop]) -> dict[str, Any]:
    return {
        "ok": True,
        "status": hop.status,
        "reason": hop.reason,
        "headers": [[n, v] for n, v in hop.headers],
        "body": base64.b64encode(hop.body).decode("ascii"),
        "url": hop.target.url,
        "elapsed_ms": round(hop.elapsed_ms, 3),
        "history": [
            {
                "status": h.status,
                "reason": h.reason,
                "headers": [[n, v] for n, v in h.headers],
                "url": h.target.url,
                "elapsed_ms": round(h.elapsed_ms, 3),
            }
            for h in history
        ],
    }


# ---------------------------------------------------------------------------------------
# One request of a child, answered
# ---------------------------------------------------------------------------------------


def request_deadline(call_deadline: float, call_deadline_ms: int) -> float:
    """When a request must end: the call's deadline less a reserve for the tool to answer."""
    reserve = min(max(call_deadline_ms / 1000.0 * _RESERVE_FRACTION, _RESERVE_MIN_S), _RESERVE_MAX_S)
    return call_deadline - reserve


def serve(
    message: Any,
    *,
    policy: EgressPolicy | None,
    record: EgressRecord,
    deadline: float,
    deadline_ms: int,
    secrets: Iterable[str],
    redact: Callable[[str], str],
) -> bytes:
    """Answer one ``{"op": "http"}`` request of a child: the response frame's JSON bytes.

    ``policy`` is the call's (None: no egress), ``record`` the call's egress record,
    ``deadline`` the call's end (monotonic) and ``deadline_ms`` its length, ``secrets``
    the call's secret values and ``redact`` the call's redactor. Never raises for
    anything the child sent; no wait of the fetch lasts past ``request_deadline``.
    """
    started = time.monotonic()
    secrets = [s for s in secrets if len(s) >= 4]
    redact = _folding(redact, secrets)
    cap = (policy or EgressPolicy()).max_requests
    if record.requests >= cap:
        # Past the cap a request costs no log line: a loop cannot flood the logs.
        record.requests += 1
        record.unlogged += 1
        return _refusal(EgressError("request_limit", f"the call's cap of {cap} HTTP requests is reached"), redact)
    try:
        ask = check_request(message, policy)
        if policy is None:
            raise EgressError(
                "refused", f"outbound HTTP is not enabled for this tenant: the request to {ask.target.host} is refused"
            )
        hop, history = _Fetch(policy, record, request_deadline(deadline, deadline_ms), list(secrets), redact).run(ask)
    except EgressError as exc:
        if not exc.noted:  # refused before any hop started: still one request, one line
            record.requests += 1
            method, host = _describe(message)
            _note(record, redact, method, host, exc.kind, (time.monotonic() - started) * 1000.0, exc.message)
        return _refusal(exc, redact)
    return json.dumps(_answer(hop, history), ensure_ascii=False).encode()


def _folding(redact: Callable[[str], str], secrets: Sequence[str]) -> Callable[[str], str]:
    """The call's redactor, and the secrets in any case: host names are case-folded here,
    so a secret a tool put in a host would otherwise come back lower-cased, unredacted."""
    patterns = [re.compile(re.escape(s), re.IGNORECASE) for s in sorted(set(secrets), key=len, reverse=True)]

    def scrub(text: str) -> str:
        text = redact(text) or ""
        for pattern in patterns:
            text = pattern.sub("[REDACTED]", text)
        return text

    return scrub


def _refusal(error: EgressError, redact: Callable[[str], str]) -> bytes:
    return json.dumps(
        {"ok": False, "kind": error.kind, "error": redact(error.message) or ""}, ensure_ascii=False
    ).encode()


def _describe(message: Any) -> tuple[str, str]:
    """Method and host for the log line of a request that may be malformed."""
    raw = message if type(message) is dict else {}
    named = raw.get("method")
    method = named if type(named) is str and named in METHODS else "?"
    try:
        host = parse_url(raw.get("url")).netloc
    except EgressError:
        host = "-"
    return method, host
