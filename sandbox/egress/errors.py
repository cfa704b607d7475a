"""How an egress request can fail, and what a call's requests leave behind.

The error tree: every failure is one ``EgressError`` whose ``kind`` is one of ``KINDS``.
``serve`` (sandbox/egress/fetch.py) turns it into the answer ``{"ok": false, "kind",
"error"}`` in one place, and the child maps the kind to its ``requests`` exception in one
table (``sandbox/child/http.py``). ``EgressRecord`` is the call's tally: requests,
response bytes and one log line per hop, which the verdict reads when the call ends.

Plain definitions with no imports from the rest of the package; the supervisor's call
objects (sandbox/supervisor/call.py) import the record from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

KINDS: Mapping[str, str] = MappingProxyType(
    {
        "refused": "the egress policy does not allow the host, scheme, port or address",
        "invalid_request": "the request is malformed (method, body, timeout)",
        "invalid_url": "the URL cannot be used (syntax, credentials, host)",
        "invalid_header": "a header is malformed or reserved (header injection is refused here)",
        "request_limit": "the call's cap on HTTP requests is reached",
        "too_large": "the response exceeds the call's cap on response bytes",
        "connect_timeout": "resolving or connecting did not finish in time",
        "read_timeout": "the server did not send in time",
        "ssl": "the TLS handshake or the certificate check failed",
        "connection": "the connection failed or the server broke HTTP",
        "too_many_redirects": "the redirects exceeded the policy's maximum",
    }
)
"""Every way a request can fail, as sent to the child (``kind``)."""


class EgressError(Exception):
    """One failed request; ``kind`` is one of ``KINDS``."""

    def __init__(self, kind: str, message: str):
        assert kind in KINDS, kind
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.noted = False  # a hop has logged it already


class EgressRecord:
    """What one call did through egress: requests, response bytes, one log line per hop.

    Mutable, owned by the thread that runs the call (``PreparedCall.egress``); the verdict
    reads it when the call ends, whatever ended it.
    """

    __slots__ = ("lines", "requests", "response_bytes", "unlogged")

    def __init__(self) -> None:
        self.requests = 0
        self.response_bytes = 0
        self.lines: list[tuple[str, str]] = []
        self.unlogged = 0

    def log_records(self) -> list[dict[str, str]]:
        records = [{"level": level, "message": message} for level, message in self.lines]
        if self.unlogged:
            records.append(
                {
                    "level": "warning",
                    "message": f"toolpool: {self.unlogged} further HTTP "
                    "requests refused: the call's request cap was reached",
                }
            )
        return records
