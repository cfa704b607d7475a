"""Bounds on everything an egress response's sender controls, as the supervisor reads it.

The remote side of an egress request is the tenant's choice, so it is untrusted like the
tool. ``http.client`` bounds a line (64 KiB) and a header block (100 lines), but not the
number of interim ``100 Continue`` responses it skips, nor the trailer lines of a chunked
body; and nothing bounds the sum. Here:

* every byte received counts against the call's response cap (``ResponseBudget``, set on
  the socket: headers, interim responses, chunk framing and trailers included), and the
  socket never asks the kernel for more than one byte past the cap;
* at most ``MAX_INTERIM_RESPONSES`` interim (1xx) responses before the final one;
* per response, at most ``MAX_HEADERS`` header lines of at most ``MAX_HEADER_LINE`` bytes,
  and ``MAX_HEAD_BYTES`` for the status lines and headers of all of them together;
* chunk-size lines and trailer lines of at most ``MAX_BODY_LINE`` bytes, and at most
  ``MAX_TRAILERS`` trailer lines.

Time is the deadline's (sandbox/egress/connection.py ``Wait``: every receive waits at
most until the request deadline, so a slow drip ends there). Each refusal is a
``ReadLimit`` naming what was exceeded; sandbox/egress/fetch.py turns it into the error
kind ``too_large``, which the child raises as the tool's ``ResponseTooLarge``.
"""

from __future__ import annotations

import http.client
import io
from typing import Any, cast

MAX_INTERIM_RESPONSES = 10
MAX_HEADERS = 100
MAX_HEADER_LINE = 8 * 1024
MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_LINE = 4 * 1024
MAX_TRAILERS = 64


class ReadLimit(Exception):
    """A response went past one of the bounds above; the message names it. ``over_cap``:
    it is the call's response cap (the message then words it as the cap's)."""

    def __init__(self, message: str, *, over_cap: bool = False):
        super().__init__(message)
        self.over_cap = over_cap


class ResponseBudget:
    """The bytes one call may receive over all its requests; shared by its sockets."""

    __slots__ = ("cap", "used")

    def __init__(self, cap: int, used: int = 0):
        self.cap = cap
        self.used = used

    def allowance(self, wanted: int) -> int:
        """How many bytes the next receive may ask for: never more than one past the cap."""
        room = self.cap - self.used + 1
        if room <= 0:
            raise ReadLimit("goes past it", over_cap=True)
        return max(1, min(wanted, room))

    def took(self, size: int) -> None:
        self.used += size
        if self.used > self.cap:
            raise ReadLimit("goes past it", over_cap=True)


class _HeadReader:
    """The response's ``fp``, with line limits: header lines while the head is read, then
    chunk-size and trailer lines. Everything else goes to the buffered socket reader."""

    def __init__(self, fp: io.BufferedReader):
        self._fp = fp
        self.in_body = False
        self.head_bytes = 0
        self.lines = 0  # of the response being read (status line excluded)

    def readline(self, limit: int = -1) -> bytes:
        cap = MAX_BODY_LINE if self.in_body else MAX_HEADER_LINE
        line = self._fp.readline(cap + 1 if limit < 0 else min(limit, cap + 1))
        if len(line) > cap:
            what = "a chunk-size or trailer line" if self.in_body else "a status or header line"
            raise ReadLimit(f"sent {what} longer than {cap} bytes")
        if not self.in_body:
            self.head_bytes += len(line)
            self.lines += 1
            if self.head_bytes > MAX_HEAD_BYTES:
                raise ReadLimit(f"sent more than {MAX_HEAD_BYTES} bytes of status lines and headers")
            if self.lines > MAX_HEADERS + 1:  # + the blank line that ends them
                raise ReadLimit(f"sent more than {MAX_HEADERS} header lines")
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fp, name)


class BoundedResponse(http.client.HTTPResponse):
    """``HTTPResponse`` reading through ``_HeadReader``, counting interim responses and
    trailer lines. Relies on ``begin`` reading each status line with ``_read_status`` and on
    ``_read_and_discard_trailer`` (both stable in CPython 3.11-3.13)."""

    def __init__(self, sock: Any, *args: Any, **kwargs: Any):
        super().__init__(sock, *args, **kwargs)
        self._head = _HeadReader(self.fp)
        # A proxy for the buffered reader: readline bounded, the rest delegated (__getattr__).
        self.fp = cast(io.BufferedReader, self._head)
        self._statuses = 0

    def _read_status(self) -> tuple[str, int, str]:
        self._statuses += 1
        if self._statuses > MAX_INTERIM_RESPONSES + 1:
            raise ReadLimit(f"sent more than {MAX_INTERIM_RESPONSES} interim (1xx) responses")
        self._head.lines = 0
        status: tuple[str, int, str] = super()._read_status()  # type: ignore[misc]  # CPython's, not in typeshed
        return status

    def begin(self) -> None:
        super().begin()
        self._head.in_body = True

    def _read_and_discard_trailer(self) -> None:
        for _ in range(MAX_TRAILERS + 1):
            line = self._head.readline()
            if line in (b"\r\n", b"\n", b""):
                return
        raise ReadLimit(f"sent more than {MAX_TRAILERS} trailer lines")
