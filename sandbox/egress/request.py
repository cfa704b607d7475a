"""What a child asked for, checked field by field before anything is fetched.

Runs in the trusted supervisor, on a request frame from a child that may be compromised:
``sandbox/child/http.py`` checks the same fields before it sends them, and nothing here
relies on that. ``check_request`` checks the method, URL, headers, body (within the
policy's cap on request bytes) and timeouts, and answers with an ``Ask`` or raises
``EgressError`` (``invalid_request``, ``invalid_url`` or ``invalid_header``).
``parse_url`` is strict where URL parsers disagree; the fetch uses it for each redirect's
target too. ``check_headers`` refuses header injection and the headers toolpool sets
itself (``RESERVED_HEADERS``).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sandbox.egress.addresses import IPAddress
from sandbox.egress.errors import EgressError
from sandbox.egress.policy import SCHEMES, EgressPolicy, normalize_host

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_URL_CHARS = 8 * 1024
_HEADERS_MAX = 64
_HEADER_NAME_CHARS = 256
_HEADER_VALUE_CHARS = 8 * 1024
_HEADERS_TOTAL_CHARS = 32 * 1024
_TIMEOUT_MAX_S = 600.0

# RFC 9110 token characters: a header name is one token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")

# requests' requote_uri keeps these as they are and percent-encodes everything else.
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"

RESERVED_HEADERS: Mapping[str, str] = MappingProxyType(
    {
        "host": "set by toolpool from the URL; another value would reach a host the policy did not check",
        "content-length": "set by toolpool from the body",
        "transfer-encoding": "set by toolpool; a tool's value would desynchronise the request framing",
        "connection": "toolpool opens one connection per request",
        "keep-alive": "toolpool opens one connection per request",
        "upgrade": "protocol switches are not supported",
        "te": "set by toolpool",
        "trailer": "set by toolpool",
        "expect": "100-continue is not supported",
        "proxy-authorization": "toolpool uses no proxy",
        "proxy-connection": "toolpool uses no proxy",
        "accept-encoding": "toolpool asks for identity encoding, so the byte cap counts real bytes "
        "and no compressed bomb can expand behind it",
    }
)
"""Request headers a tool may not set, name (lower case) -> why."""


@dataclass(frozen=True)
class Target:
    """Where one hop goes: a URL ``parse_url`` accepted, in the parts the fetch uses."""

    scheme: str
    host: str  # normalized DNS name, or the address as text
    port: int
    literal: IPAddress | None
    path: str  # path and query, as sent

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if self.literal is not None and self.literal.version == 6 else self.host
        return host if self.port == SCHEMES[self.scheme] else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.path}"

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port


def _has_controls(text: str) -> bool:
    return any(ord(c) < 0x21 or ord(c) == 0x7F for c in text)


def parse_url(url: Any) -> Target:
    """A URL the fetch can use, or raise ``EgressError('invalid_url')`` saying why.

    Strict where parsers disagree: no control characters or spaces, no credentials
    (``http://allowed@evil``), no backslash or percent sign in the authority, a host that
    is an IP address or a plain DNS name. Non-ASCII in the path and query is
    percent-encoded, as requests does; the fragment is dropped.
    """
    if type(url) is not str or not url:
        raise EgressError("invalid_url", "the URL must be a non-empty str")
    if len(url) > _URL_CHARS:
        raise EgressError("invalid_url", f"the URL is longer than {_URL_CHARS} characters")
    if _has_controls(url):
        raise EgressError("invalid_url", "the URL contains spaces or control characters (CR, LF, NUL...)")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EgressError("invalid_url", f"the URL cannot be parsed: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise EgressError("invalid_url", f"scheme {parts.scheme!r} is not supported (http, https)")
    netloc = parts.netloc
    if "@" in netloc:
        raise EgressError("invalid_url", "credentials in the URL are not supported; use auth= or a header")
    if "\\" in netloc or "%" in netloc:
        raise EgressError("invalid_url", "the URL's host contains a backslash or a percent sign")
    raw_host = parts.hostname
    if not raw_host:
        raise EgressError("invalid_url", "the URL has no host")
    literal: IPAddress | None
    try:
        literal = ipaddress.ip_address(raw_host)
    except ValueError:
        literal = None
    if literal is not None:
        host = str(literal)
        if netloc.startswith("[") != (literal.version == 6):
            raise EgressError("invalid_url", "an IPv6 address must be written in brackets, an IPv4 one without")
    else:
        try:
            host = normalize_host(raw_host)
        except ValueError as exc:
            raise EgressError("invalid_url", str(exc)) from None
    if port == 0:
        raise EgressError("invalid_url", "port 0 cannot be connected to")
    path = urllib.parse.quote(parts.path or "/", safe=_URL_SAFE)
    if not path.startswith("/"):
        raise EgressError("invalid_url", "the URL's path must start with '/'")
    if parts.query:
        path += "?" + urllib.parse.quote(parts.query, safe=_URL_SAFE)
    return Target(scheme, host, port if port is not None else SCHEMES[scheme], literal, path)


def check_headers(raw: Any) -> list[tuple[str, str]]:
    """The tool's headers as (name, value) pairs, or raise ``EgressError('invalid_header')``.

    Refuses CR, LF, NUL and every other control character but tab in names and values
    (header injection), names that are not HTTP tokens, values that HTTP/1.1 cannot
    carry (not latin-1), the headers toolpool sets itself (``RESERVED_HEADERS``), and
    sizes over the caps. Messages name the header, never its value (it may be a secret).
    """
    if raw is None:
        return []
    if type(raw) is not list or len(raw) > _HEADERS_MAX:
        raise EgressError("invalid_header", f"headers must be a list of at most {_HEADERS_MAX} [name, value] pairs")
    headers: list[tuple[str, str]] = []
    total = 0
    for pair in raw:
        if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str or type(pair[1]) is not str:
            raise EgressError("invalid_header", "each header must be a [name, value] pair of str")
        name, value = pair
        shown = name[:80].encode("ascii", "backslashreplace").decode("ascii")
        if not _TOKEN.match(name) or len(name) > _HEADER_NAME_CHARS:
            raise EgressError(
                "invalid_header",
                f"header name {shown!r} is not a valid HTTP token (CR, LF, NUL, spaces and separators are refused)",
            )
        if any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F for c in value):
            raise EgressError(
                "invalid_header",
                f"header {shown!r}: the value contains CR, LF, NUL or another "
                "control character (header injection refused)",
            )
        if len(value) > _HEADER_VALUE_CHARS:
            raise EgressError("invalid_header", f"header {shown!r} is longer than {_HEADER_VALUE_CHARS} characters")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise EgressError(
                "invalid_header", f"header {shown!r}: HTTP/1.1 header values must be latin-1; encode other text first"
            ) from None
        reason = RESERVED_HEADERS.get(name.lower())
        if reason:
            raise EgressError("invalid_header", f"header {shown!r} cannot be set by a tool: {reason}")
        total += len(name) + len(value)
        if total > _HEADERS_TOTAL_CHARS:
            raise EgressError("invalid_header", f"the headers exceed {_HEADERS_TOTAL_CHARS} characters")
        headers.append((name, value))
    return headers


def _seconds(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if type(value) not in (int, float) or not math.isfinite(value) or not 0 < value <= _TIMEOUT_MAX_S:
        raise EgressError(
            "invalid_request", f"{what} must be a number of seconds above 0 and at most {_TIMEOUT_MAX_S:g}"
        )
    return float(value)


@dataclass(frozen=True)
class Ask:
    """A child's request, checked."""

    method: str
    target: Target
    headers: list[tuple[str, str]]
    body: bytes | None
    connect_timeout: float | None
    read_timeout: float | None
    follow_redirects: bool


def check_request(message: Any, policy: EgressPolicy | None) -> Ask:
    """Every field of the child's request, or raise EgressError. Trusts nothing in it."""
    if type(message) is not dict:
        raise EgressError("invalid_request", "the request must be an object")
    method = message.get("method")
    if type(method) is not str or method not in METHODS:
        shown = (
            method[:20].encode("ascii", "backslashreplace").decode() if type(method) is str else type(method).__name__
        )
        raise EgressError("invalid_request", f"method {shown!r} is not supported ({', '.join(sorted(METHODS))})")
    target = parse_url(message.get("url"))
    headers = check_headers(message.get("headers"))
    body = message.get("body")
    if body is not None:
        if type(body) is not str:
            raise EgressError("invalid_request", "the body must be base64 text")
        try:
            body = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise EgressError("invalid_request", "the body is not valid base64") from None
        cap = (policy or EgressPolicy()).max_request_bytes
        if len(body) > cap:
            raise EgressError(
                "invalid_request", f"the request body of {len(body)} bytes exceeds the cap of {cap} bytes"
            )
    timeout = message.get("timeout")
    if timeout is not None and (type(timeout) is not list or len(timeout) != 2):
        raise EgressError("invalid_request", "timeout must be [connect, read] (each seconds or null)")
    connect_timeout, read_timeout = (
        (None, None)
        if timeout is None
        else (_seconds(timeout[0], "the connect timeout"), _seconds(timeout[1], "the read timeout"))
    )
    follow = message.get("redirects", True)
    if type(follow) is not bool:
        raise EgressError("invalid_request", "redirects must be true or false")
    return Ask(method, target, headers, body, connect_timeout, read_timeout, follow)
