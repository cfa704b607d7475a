"""Outbound HTTP for tools, on the supervisor's side: the egress policy and the fetch.

Runs in the trusted supervisor (the server or the CLI), in the thread that runs the call,
while the child waits for the answer. Trusts the ``EgressPolicy`` (the service builds it
from the tenant's stored policy plus its own ports; the CLI from its flags) and the
resolver it names. Trusts nothing in a child's request: every field is checked again
here, whatever ``sandbox/child/http.py`` checked before sending it.

One request (``serve``), with the error kind each step can end in:

    check the child's request: method, URL, headers, body, timeout    invalid_request/_url/_header
    no policy; the call's cap on requests                             refused, request_limit
    for each hop (the URL, then each redirect it is allowed to follow):
      parse the URL strictly; a rule must allow (scheme, host, port)  invalid_url, refused
      resolve the host once, within the deadline                       connection, connect_timeout
      check EVERY resolved address (never-reachable ranges, this
        host's own addresses, the service's own ports) unless the
        policy names it                                                refused
      connect to a checked address; Host, SNI and the certificate
        check use the hostname, never a second lookup                  connect_timeout, ssl, connection
      send, read status and headers; a redirect starts the next hop    read_timeout, too_many_redirects
      read the body within the call's byte cap                         too_large, read_timeout
    one log record per hop (method, host, status, time); usage counters

The error tree: every failure is one ``EgressError`` whose ``kind`` is one of ``KINDS``;
``serve`` turns it into the answer ``{"ok": false, "kind", "error"}`` in one place, and the
child maps the kind to its ``requests`` exception in one table (``sandbox/child/http.py``).

Deadline: each socket operation (connect, TLS handshake, every send and every receive)
waits at most until the request deadline, the call's deadline less a reserve (a tenth of
the call's time, 20-200 ms), so a request ends before the call does whatever the server
does (a slow drip included), and the tool keeps time to answer without it. Within that,
the tool's own ``timeout=`` bounds the connect and each wait for bytes, as in ``requests``.

Why ``http.client`` and not urllib3: urllib3's parser IS ``http.client``; what it adds
(pooling, retries, redirects, content decoding, proxy support) is what this module must
switch off or do itself, hop by hop, with checks between. Pinning the connection to the
checked address is one ``connect`` override here, and the per-operation deadline needs
our own socket classes with either. So: no new dependency in the trusted process, and
the whole path from the checked address to the bytes read is in this file.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import http.client
import ipaddress
import json
import logging
import math
import re
import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, Sequence

import psutil

from sandbox.egress_reads import BoundedResponse, ReadLimit, ResponseBudget

log = logging.getLogger("toolpool.egress")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Iterable[str]]
"""``resolver(host, port) -> addresses`` (IP strings). The default is ``getaddrinfo``."""

SCHEMES: Mapping[str, int] = MappingProxyType({"http": 80, "https": 443})
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

KINDS: Mapping[str, str] = MappingProxyType({
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
})
"""Every way a request can fail, as sent to the child (``kind``)."""

# Ceilings any policy must stay under: a response travels to the child in one JSON frame
# (base64), and a request body comes from it in one frame capped by the call's output
# limits (sandbox/policy.py Limits.reply_bytes, about 1.2 MB by default).
MAX_REQUESTS_CEILING = 100
MAX_RESPONSE_BYTES_CEILING = 16 * 1024 * 1024
MAX_REQUEST_BYTES_CEILING = 512 * 1024
MAX_REDIRECTS_CEILING = 10

_URL_CHARS = 8 * 1024
_HEADERS_MAX = 64
_HEADER_NAME_CHARS = 256
_HEADER_VALUE_CHARS = 8 * 1024
_HEADERS_TOTAL_CHARS = 32 * 1024
_TIMEOUT_MAX_S = 600.0
_READ_CHUNK = 64 * 1024
_LOG_DETAIL_CHARS = 300
_RESERVE_FRACTION = 0.1
_RESERVE_MIN_S = 0.02
_RESERVE_MAX_S = 0.2
_USER_AGENT = "toolpool-requests/1"

# RFC 9110 token characters: a header name is one token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# After IDNA: letters, digits, hyphens (and underscores, which some internal names use).
_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\Z")
# requests' requote_uri keeps these as they are and percent-encodes everything else.
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"

RESERVED_HEADERS: Mapping[str, str] = MappingProxyType({
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
})
"""Request headers a tool may not set, name (lower case) -> why."""

_CROSS_ORIGIN_DROPPED = frozenset({"authorization", "cookie", "proxy-authorization"})

NEVER_REACHABLE: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(network), reason) for network, reason in (
        ("0.0.0.0/8", "in the 'this network' range (0.0.0.0 reaches this host)"),
        ("10.0.0.0/8", "a private address (RFC 1918)"),
        ("100.64.0.0/10", "a shared carrier-grade NAT address (RFC 6598)"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address (169.254.169.254 is the cloud metadata service)"),
        ("172.16.0.0/12", "a private address (RFC 1918)"),
        ("192.0.0.0/24", "an IETF protocol assignment (RFC 6890)"),
        ("192.0.2.0/24", "a documentation address (TEST-NET-1)"),
        ("192.88.99.0/24", "a 6to4 relay anycast address"),
        ("192.168.0.0/16", "a private address (RFC 1918)"),
        ("198.18.0.0/15", "a benchmarking address (RFC 2544)"),
        ("198.51.100.0/24", "a documentation address (TEST-NET-2)"),
        ("203.0.113.0/24", "a documentation address (TEST-NET-3)"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address (the broadcast address included)"),
        ("::/128", "the unspecified address"),
        ("::1/128", "the loopback address"),
        ("::/96", "a deprecated IPv4-compatible address"),
        ("64:ff9b:1::/48", "a local-use NAT64 address (RFC 8215)"),
        ("100::/64", "a discard-only address (RFC 6666)"),
        ("2001::/23", "an IETF protocol assignment (Teredo tunnels included)"),
        ("2001:db8::/32", "a documentation address"),
        ("2002::/16", "a 6to4 tunnel address"),
        ("fc00::/7", "a unique local (private) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a deprecated site-local address"),
        ("ff00::/8", "a multicast address"),
    )
)
"""Addresses no request reaches unless the tenant's policy names them, with the reason.

Anything else that ``ipaddress`` does not call global is refused too. IPv4-mapped
(``::ffff:a.b.c.d``) and NAT64 (``64:ff9b::/96``) addresses are judged by the IPv4
address they carry, so ``::ffff:127.0.0.1`` is loopback.
"""

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


# ---------------------------------------------------------------------------------------
# The policy
# ---------------------------------------------------------------------------------------


def normalize_host(host: str) -> str:
    """A DNS name as policies and URLs are compared: IDNA ASCII, lower case, no trailing dot.

    Raises ValueError for anything that is not a plain DNS name, including names that
    resolvers read as IPv4 numbers (``2130706433``, ``127.1``, ``0x7f.1``).
    """
    if type(host) is not str or not host or len(host) > 254:
        raise ValueError(f"{host!r} is not a host name")
    name = host[:-1] if host.endswith(".") else host
    try:
        name = name.encode("idna").decode("ascii").lower()
    except (UnicodeError, ValueError):
        raise ValueError(f"{host!r} is not a valid host name") from None
    labels = name.split(".")
    if not name or len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"{host!r} is not a valid host name")
    last = labels[-1]
    if last.isdigit() or re.fullmatch(r"0x[0-9a-f]*", last):
        raise ValueError(f"{host!r} looks like a numeric address; write the address itself")
    return name


def _ports(ports: Iterable[int] | None, what: str) -> frozenset[int] | None:
    if ports is None:
        return None
    out = frozenset(ports)
    if not out or not all(type(p) is int and 0 < p < 65536 for p in out):
        raise ValueError(f"{what}: ports must be a non-empty list of integers 1-65535")
    return out


@dataclass(frozen=True)
class HostRule:
    """Hosts a tenant may call: ``api.example.com`` exactly, or ``*.example.com``, any
    subdomain (not ``example.com`` itself). ``ports`` None means the scheme's default port."""

    pattern: str
    ports: frozenset[int] | None
    schemes: frozenset[str]

    def matches_host(self, host: str) -> bool:
        if self.pattern.startswith("*."):
            return host.endswith(self.pattern[1:])
        return host == self.pattern

    def allows_port(self, scheme: str, port: int) -> bool:
        return port == SCHEMES[scheme] if self.ports is None else port in self.ports

    def describe(self) -> str:
        schemes = "/".join(sorted(self.schemes))
        ports = "default port" if self.ports is None else ",".join(map(str, sorted(self.ports)))
        return f"{schemes}://{self.pattern} ({ports})"


@dataclass(frozen=True)
class AddressRule:
    """An address or network the tenant names explicitly: reachable although it is
    loopback, private, link-local..., and usable as a URL's host (both schemes).
    ``ports`` None means any port but the service's own."""

    network: IPNetwork
    ports: frozenset[int] | None

    def names(self, address: IPAddress) -> bool:
        return address.version == self.network.version and address in self.network


@dataclass(frozen=True)
class EgressPolicy:
    """One tenant's egress policy, as frozen data. Build it with the ``with_*`` methods.

    Tenant data: ``hosts``, ``addresses``, the per-call caps and ``ca_pem`` (extra CA
    certificates, PEM, trusted besides the system store: a private PKI, or a test's).
    Set by the service, not by tenants: ``protected_ports`` (the service's own listening
    ports, refused on every address unless a rule lists the port) and ``resolver``
    (None: the system's getaddrinfo; tests and special deployments inject their own).
    An empty policy allows nothing; ``CallRequest.egress = None`` means no egress at all.
    """

    hosts: tuple[HostRule, ...] = ()
    addresses: tuple[AddressRule, ...] = ()
    max_requests: int = 20  # per call; each redirect hop and each refused request counts
    max_response_bytes: int = 2 * 1024 * 1024  # per call: headers and bodies of all responses
    max_request_bytes: int = 256 * 1024  # one request body
    max_redirects: int = 5  # per request
    protected_ports: frozenset[int] = frozenset()
    ca_pem: str | None = None
    resolver: Resolver | None = field(default=None, repr=False)

    # -- builders --------------------------------------------------------------------

    def with_host(self, pattern: str, *, ports: Iterable[int] | None = None,
                  schemes: Iterable[str] = ("https",)) -> EgressPolicy:
        """Allow ``pattern`` (``api.example.com`` or ``*.example.com``) on ``ports`` (None:
        each scheme's default port) for ``schemes``. Raises ValueError naming the problem."""
        if type(pattern) is not str:
            raise ValueError("a host pattern must be a str")
        wildcard = pattern.startswith("*.")
        host = normalize_host(pattern[2:] if wildcard else pattern)
        if wildcard and host.count(".") < 1:
            raise ValueError(f"{pattern!r}: a wildcard needs at least two labels after '*.' (*.example.com)")
        if "*" in host:
            raise ValueError(f"{pattern!r}: '*' is allowed only as the first label ('*.example.com')")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            raise ValueError(f"{pattern!r} is an address: name it with with_address")
        scheme_set = frozenset(schemes)
        if not scheme_set or not scheme_set <= SCHEMES.keys():
            raise ValueError(f"{pattern!r}: schemes must be among {sorted(SCHEMES)}")
        rule = HostRule(("*." if wildcard else "") + host, _ports(ports, pattern), scheme_set)
        return dataclasses.replace(self, hosts=self.hosts + (rule,))

    def with_address(self, address: str, *, ports: Iterable[int] | None = None) -> EgressPolicy:
        """Name an address or network (``127.0.0.1``, ``10.1.2.0/24``, ``::1``) explicitly:
        reachable though it is never reachable otherwise, on ``ports`` (None: any port but
        the service's own). Raises ValueError."""
        try:
            network = ipaddress.ip_network(address, strict=True)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{address!r} is not an address or network: {exc}") from None
        if network.prefixlen == 0:
            raise ValueError(f"{address!r} names every address; name the addresses the tenant needs")
        rule = AddressRule(network, _ports(ports, str(address)))
        return dataclasses.replace(self, addresses=self.addresses + (rule,))

    def with_limits(self, **changes: int) -> EgressPolicy:
        """Change ``max_requests``, ``max_response_bytes``, ``max_request_bytes`` or
        ``max_redirects``, each a positive int (redirects may be 0) under its ceiling."""
        ceilings = {"max_requests": MAX_REQUESTS_CEILING, "max_response_bytes": MAX_RESPONSE_BYTES_CEILING,
                    "max_request_bytes": MAX_REQUEST_BYTES_CEILING, "max_redirects": MAX_REDIRECTS_CEILING}
        for name, value in changes.items():
            if name not in ceilings:
                raise ValueError(f"egress has no limit {name!r} (limits: {', '.join(ceilings)})")
            lowest = 0 if name == "max_redirects" else 1
            if type(value) is not int or not lowest <= value <= ceilings[name]:
                raise ValueError(f"egress.{name} must be an integer from {lowest} to {ceilings[name]}, got {value!r}")
        return dataclasses.replace(self, **changes)

    def with_protected_ports(self, ports: Iterable[int]) -> EgressPolicy:
        """The service's own ports (gRPC, metrics...): refused on every address unless
        the rule that allows the URL lists the port."""
        return dataclasses.replace(self, protected_ports=_ports(list(ports) or None, "protected ports") or frozenset())

    def with_ca(self, pem: str | None) -> EgressPolicy:
        if pem is not None:
            _tls_context(pem)  # raises ssl.SSLError for a PEM that does not load
        return dataclasses.replace(self, ca_pem=pem)

    def with_resolver(self, resolver: Resolver | None) -> EgressPolicy:
        return dataclasses.replace(self, resolver=resolver)

    # -- plain data, for storage and the wire -----------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The tenant's part as plain data (not ``protected_ports`` nor ``resolver``)."""
        return {
            "hosts": [{"pattern": r.pattern, "ports": sorted(r.ports) if r.ports else None,
                       "schemes": sorted(r.schemes)} for r in self.hosts],
            "addresses": [{"network": str(r.network), "ports": sorted(r.ports) if r.ports else None}
                          for r in self.addresses],
            "max_requests": self.max_requests,
            "max_response_bytes": self.max_response_bytes,
            "max_request_bytes": self.max_request_bytes,
            "max_redirects": self.max_redirects,
            "ca_pem": self.ca_pem,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EgressPolicy:
        """The inverse of ``to_dict``, validating every field. Raises ValueError naming it."""
        if not isinstance(data, Mapping):
            raise ValueError("an egress policy must be an object")
        unknown = set(data) - {"hosts", "addresses", "max_requests", "max_response_bytes",
                               "max_request_bytes", "max_redirects", "ca_pem"}
        if unknown:
            raise ValueError(f"egress policy: unknown fields {sorted(unknown)}")
        policy = cls()
        for index, rule in enumerate(data.get("hosts") or ()):
            if not isinstance(rule, Mapping):
                raise ValueError(f"hosts[{index}] must be an object")
            policy = policy.with_host(rule.get("pattern"), ports=rule.get("ports"),
                                      schemes=rule.get("schemes") or ("https",))
        for index, rule in enumerate(data.get("addresses") or ()):
            if not isinstance(rule, Mapping):
                raise ValueError(f"addresses[{index}] must be an object")
            policy = policy.with_address(rule.get("network"), ports=rule.get("ports"))
        limits = {k: data[k] for k in ("max_requests", "max_response_bytes", "max_request_bytes",
                                       "max_redirects") if data.get(k) is not None}
        return policy.with_limits(**limits).with_ca(data.get("ca_pem"))

    # -- decisions ------------------------------------------------------------------

    def address_rule(self, address: IPAddress) -> AddressRule | None:
        """The rule naming ``address`` (or the IPv4 address it carries), if any."""
        candidates = {address, _carried_ipv4(address) or address}
        for rule in self.addresses:
            if any(rule.names(candidate) for candidate in candidates):
                return rule
        return None

    def rule_for(self, scheme: str, host: str, port: int, literal: IPAddress | None) -> HostRule | AddressRule:
        """The rule allowing a URL, or raise ``EgressError('refused')`` naming the host."""
        if literal is not None:
            rule = self.address_rule(literal)
            if rule is None:
                reason = never_reachable_reason(literal)
                if reason:
                    raise EgressError("refused", f"{host} is not reachable: {reason}, never reachable "
                                                 "unless the egress policy names it")
                raise EgressError("refused", f"host {host} is not in this tenant's egress allowlist")
            if rule.ports is not None and port not in rule.ports:
                raise EgressError("refused", f"port {port} of {host} is not allowed by the egress policy "
                                             f"(allowed: {', '.join(map(str, sorted(rule.ports)))})")
            return rule
        named = [rule for rule in self.hosts if rule.matches_host(host)]
        if not named:
            raise EgressError("refused", f"host {host} is not in this tenant's egress allowlist")
        for rule in named:
            if scheme in rule.schemes and rule.allows_port(scheme, port):
                return rule
        allowed = "; ".join(rule.describe() for rule in named)
        raise EgressError("refused", f"{scheme}://{host}:{port} is not allowed by the egress policy "
                                     f"(allowed for this host: {allowed})")


def _carried_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped or NAT64 IPv6 address carries."""
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def never_reachable_reason(address: IPAddress) -> str | None:
    """Why ``address`` is never reachable unless named, or None for a public address."""
    carried = _carried_ipv4(address)
    if carried is not None:
        reason = never_reachable_reason(carried)
        return f"carries {carried}, which is {reason}" if reason else None
    for network, reason in NEVER_REACHABLE:
        if address.version == network.version and address in network:
            return reason
    if not address.is_global:
        return "not a public internet address"
    return None


def _host_addresses() -> frozenset[IPAddress]:
    """The addresses of this host's interfaces: reaching them reaches this host.

    Read at most once a second (reading them costs about 0.2 ms); an address added in
    that second is missed until the next one.
    """
    return _host_addresses_in(int(time.monotonic()))


@functools.lru_cache(maxsize=1)
def _host_addresses_in(second: int) -> frozenset[IPAddress]:
    found: set[IPAddress] = set()
    try:
        interfaces = psutil.net_if_addrs()
    except (OSError, RuntimeError):
        return frozenset()
    for entries in interfaces.values():
        for entry in entries:
            if entry.family in (socket.AF_INET, socket.AF_INET6):
                try:
                    found.add(ipaddress.ip_address(entry.address.split("%")[0]))
                except ValueError:
                    continue
    return frozenset(found)


def address_refusal(policy: EgressPolicy, address: IPAddress, port: int, url_rule: HostRule | AddressRule,
                    host_addresses: Callable[[], frozenset[IPAddress]] = _host_addresses) -> str | None:
    """Why the request may not connect to ``address``:``port``, or None.

    ``url_rule`` is the rule that allowed the URL. The service's own ports need a rule
    that lists the port. A non-public address (or one of this host's) needs an address
    rule naming it, on its ports.
    """
    if port in policy.protected_ports and not (url_rule.ports and port in url_rule.ports):
        return f"port {port} is one of the service's own ports, reachable only when a rule lists it"
    named = policy.address_rule(address)
    if named is not None:
        if named.ports is not None and port not in named.ports:
            return f"the egress policy names {address} only for ports {', '.join(map(str, sorted(named.ports)))}"
        return None
    reason = never_reachable_reason(address)
    if reason is None:
        mine = host_addresses()
        if address in mine or _carried_ipv4(address) in mine:
            reason = "an address of this host"
    return f"{reason}, never reachable unless the egress policy names it" if reason else None


# ---------------------------------------------------------------------------------------
# Errors and the per-call record
# ---------------------------------------------------------------------------------------


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

    __slots__ = ("requests", "response_bytes", "lines", "unlogged")

    def __init__(self) -> None:
        self.requests = 0
        self.response_bytes = 0
        self.lines: list[tuple[str, str]] = []
        self.unlogged = 0

    def log_records(self) -> list[dict[str, str]]:
        records = [{"level": level, "message": message} for level, message in self.lines]
        if self.unlogged:
            records.append({"level": "warning", "message": f"toolpool: {self.unlogged} further HTTP "
                                                           "requests refused: the call's request cap was reached"})
        return records


# ---------------------------------------------------------------------------------------
# Sockets that never wait past the deadline
# ---------------------------------------------------------------------------------------


class _Wait:
    """The limits of one hop's socket waits: the absolute request deadline, and the
    tool's ``timeout`` for each wait (None: only the deadline)."""

    __slots__ = ("until", "per_wait", "deadline_bound", "budget")

    def __init__(self, until: float, per_wait: float | None, budget: ResponseBudget | None = None):
        self.until = until
        self.per_wait = per_wait
        self.deadline_bound = False
        self.budget = budget  # the call's response bytes, counted as they are received

    def arm(self, sock: socket.socket) -> None:
        remaining = self.until - time.monotonic()
        if remaining <= 0:
            self.deadline_bound = True
            raise TimeoutError("the call's deadline")
        self.deadline_bound = self.per_wait is None or remaining <= self.per_wait
        sock.settimeout(remaining if self.deadline_bound else self.per_wait)


class _Armed:
    """Arms the socket's ``_Wait`` before every send and receive, and counts what is
    received against the call's response budget (never asking for more than it allows)."""

    wait: _Wait

    def recv(self, size: int, *args: Any) -> bytes:
        self.wait.arm(self)
        budget = self.wait.budget
        if budget is None:
            return super().recv(size, *args)  # type: ignore[misc]
        data: bytes = super().recv(budget.allowance(size), *args)  # type: ignore[misc]
        budget.took(len(data))
        return data

    def recv_into(self, buffer: Any, nbytes: int | None = None, *args: Any) -> int:
        self.wait.arm(self)
        budget = self.wait.budget
        wanted = nbytes or memoryview(buffer).nbytes
        if budget is None:
            return super().recv_into(buffer, wanted, *args)  # type: ignore[misc]
        size: int = super().recv_into(buffer, budget.allowance(wanted), *args)  # type: ignore[misc]
        budget.took(size)
        return size

    def send(self, *args: Any) -> int:
        self.wait.arm(self)
        return super().send(*args)


class _TimedSocket(_Armed, socket.socket):
    """A TCP socket whose every send and receive is armed by its ``_Wait`` first."""

    def sendall(self, *args: Any) -> None:
        self.wait.arm(self)  # since Python 3.5 the timeout bounds the whole sendall
        return super().sendall(*args)


class _TimedSSLSocket(_Armed, ssl.SSLSocket):
    """The TLS counterpart of ``_TimedSocket`` (an SSLContext's ``sslsocket_class``)."""

    def do_handshake(self, *args: Any) -> None:
        self.wait.arm(self)  # the handshake's own retries share this one timeout
        return super().do_handshake(*args)


@functools.lru_cache(maxsize=32)
def _tls_context(ca_pem: str | None) -> ssl.SSLContext:
    """Verification on (CERT_REQUIRED, hostname check), TLS 1.2+, the system store plus
    ``ca_pem``. Cached: loading the system store costs milliseconds; never mutated."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_pem:
        context.load_verify_locations(cadata=ca_pem)
    context.set_alpn_protocols(["http/1.1"])
    context.sslsocket_class = _TimedSSLSocket
    return context


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP/1.1 to ``host`` over a connection to one CHECKED address.

    http.client writes the Host header from ``host``, and TLS uses ``host`` for SNI and
    for the certificate check; only ``connect`` is ours, and it never resolves a name, so
    no later lookup can swap the address that was checked. Responses are read within the
    bounds of sandbox/egress_reads.py.
    """

    response_class = BoundedResponse

    def __init__(self, host: str, port: int, scheme: str, address: IPAddress, wait: _Wait,
                 connect_timeout: float | None, tls: ssl.SSLContext | None):
        super().__init__(host, port)
        self.default_port = SCHEMES[scheme]  # the Host header leaves out the default port
        self._address = address
        self._wait = wait
        self._tls = tls
        self.connect_wait = _Wait(wait.until, connect_timeout)  # connect and TLS handshake

    def connect(self) -> None:
        # An IPv4-mapped address is connected to as the IPv4 address it carries.
        address = _carried_ipv4(self._address) if self._address.version == 6 and self._address.ipv4_mapped \
            else self._address
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        connect_wait = self.connect_wait
        sock = _TimedSocket(family, socket.SOCK_STREAM)
        try:
            sock.wait = connect_wait
            connect_wait.arm(sock)
            sock.connect((str(address), self.port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=self.host, do_handshake_on_connect=False)
                sock.wait = connect_wait
                sock.do_handshake()
            sock.wait = self._wait
        except BaseException:
            sock.close()
            raise
        self.sock = sock


# ---------------------------------------------------------------------------------------
# Checking what the child asked for
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
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


def parse_url(url: Any) -> _Target:
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
    return _Target(scheme, host, port if port is not None else SCHEMES[scheme], literal, path)


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
            raise EgressError("invalid_header", f"header name {shown!r} is not a valid HTTP token "
                                                "(CR, LF, NUL, spaces and separators are refused)")
        if any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F for c in value):
            raise EgressError("invalid_header", f"header {shown!r}: the value contains CR, LF, NUL or another "
                                                "control character (header injection refused)")
        if len(value) > _HEADER_VALUE_CHARS:
            raise EgressError("invalid_header", f"header {shown!r} is longer than {_HEADER_VALUE_CHARS} characters")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise EgressError("invalid_header", f"header {shown!r}: HTTP/1.1 header values must be latin-1; "
                                                "encode other text first") from None
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
        raise EgressError("invalid_request", f"{what} must be a number of seconds above 0 and at most {_TIMEOUT_MAX_S:g}")
    return float(value)


@dataclass(frozen=True)
class _Ask:
    """A child's request, checked."""

    method: str
    target: _Target
    headers: list[tuple[str, str]]
    body: bytes | None
    connect_timeout: float | None
    read_timeout: float | None
    follow_redirects: bool


def check_request(message: Any, policy: EgressPolicy | None) -> _Ask:
    """Every field of the child's request, or raise EgressError. Trusts nothing in it."""
    if type(message) is not dict:
        raise EgressError("invalid_request", "the request must be an object")
    method = message.get("method")
    if type(method) is not str or method not in METHODS:
        shown = method[:20].encode("ascii", "backslashreplace").decode() if type(method) is str else type(method).__name__
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
            raise EgressError("invalid_request", f"the request body of {len(body)} bytes exceeds the cap of {cap} bytes")
    timeout = message.get("timeout")
    if timeout is not None and (type(timeout) is not list or len(timeout) != 2):
        raise EgressError("invalid_request", "timeout must be [connect, read] (each seconds or null)")
    connect_timeout, read_timeout = (None, None) if timeout is None else (
        _seconds(timeout[0], "the connect timeout"), _seconds(timeout[1], "the read timeout"))
    follow = message.get("redirects", True)
    if type(follow) is not bool:
        raise EgressError("invalid_request", "redirects must be true or false")
    return _Ask(method, target, headers, body, connect_timeout, read_timeout, follow)


# ---------------------------------------------------------------------------------------
# The fetch
# ---------------------------------------------------------------------------------------


# Lookups in flight, process-wide. A lookup the deadline abandoned runs on until the
# resolver's own timeout (up to ~30 s with resolv.conf defaults), so a tenant whose DNS
# zone never answers could otherwise pile up threads; past this, requests are refused.
_LOOKUPS_IN_FLIGHT = threading.BoundedSemaphore(64)


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [info[4][0] for info in infos]


MAX_ADDRESSES = 32
"""Addresses one lookup may answer with (each is checked against the policy)."""
MAX_LOOKUP_S = 5.0
"""The longest one lookup may take, within the call's deadline."""


def resolve(policy: EgressPolicy, target: _Target, until: float) -> list[IPAddress]:
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
        raise EgressError("connection", f"{target.host} resolves to {len(answers)} answers; at most "
                                        f"{MAX_ADDRESSES} addresses are accepted")
    addresses: list[IPAddress] = []
    for text in answers:
        try:
            address = ipaddress.ip_address(str(text).split("%")[0])
        except ValueError:
            raise EgressError("connection", f"the resolver gave {target.host} an invalid address") from None
        if address not in addresses:
            addresses.append(address)
    if len(addresses) > MAX_ADDRESSES:
        raise EgressError("connection", f"{target.host} resolves to {len(addresses)} addresses; at most "
                                        f"{MAX_ADDRESSES} are accepted")
    if not addresses:
        raise EgressError("connection", f"{target.host} has no address")
    return addresses


def check_addresses(policy: EgressPolicy, target: _Target, addresses: Sequence[IPAddress],
                    url_rule: HostRule | AddressRule) -> None:
    """Refuse the hop unless EVERY address may be reached (one bad answer refuses the host)."""
    for address in addresses:
        why = address_refusal(policy, address, target.port, url_rule)
        if why is None:
            continue
        if target.literal is not None:
            raise EgressError("refused", f"{target.host} is not reachable: {why}")
        raise EgressError("refused", f"{target.host} resolves to {address}, which is not reachable: {why}")


@dataclass
class _Hop:
    """One response: status, headers, body (empty for a redirect that is followed)."""

    target: _Target
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    elapsed_ms: float = 0.0


class _Fetch:
    """One request of the child, hop by hop. Raises EgressError; records every hop."""

    def __init__(self, policy: EgressPolicy, record: EgressRecord, until: float,
                 secrets: Sequence[str], redact: Callable[[str], str]):
        self.policy = policy
        self.record = record
        self.until = until
        self.secrets = [s for s in secrets if len(s) >= 4]
        self.redact = redact
        self.budget = ResponseBudget(policy.max_response_bytes, record.response_bytes)

    def run(self, ask: _Ask) -> tuple[_Hop, list[_Hop]]:
        method, target, headers, body = ask.method, ask.target, list(ask.headers), ask.body
        history: list[_Hop] = []
        while True:
            hop = self.hop(method, target, headers, body, ask)
            location = hop.headers and _header(hop.headers, "location")
            if not (ask.follow_redirects and hop.status in REDIRECT_STATUSES and location):
                return hop, history
            history.append(hop)
            if len(history) > self.policy.max_redirects:
                raise self.refuse_redirect(method, target, EgressError(
                    "too_many_redirects", f"more than {self.policy.max_redirects} redirects, the last from {target.host}"))
            try:
                following = parse_url(urllib.parse.urljoin(target.url, location))
            except EgressError as exc:
                raise self.refuse_redirect(method, target, EgressError(
                    exc.kind, f"redirect from {target.host}: {exc.message}")) from None
            method, body, headers = _redirected(method, hop.status, body, headers)
            if following.origin != target.origin:
                headers = self.without_credentials(headers)
            target = following

    def refuse_redirect(self, method: str, target: _Target, error: EgressError) -> EgressError:
        """A redirect not followed: logged, but no request was made, so none is counted."""
        self.note(method, target, error.kind, time.monotonic(), error.message)
        error.noted = True
        return error

    def without_credentials(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Headers for another origin: no Authorization or Cookie, and no header carrying one
        of the call's secrets, which the tool addressed to the first origin only."""
        return [(n, v) for n, v in headers
                if n.lower() not in _CROSS_ORIGIN_DROPPED and not any(s in v for s in self.secrets)]

    def hop(self, method: str, target: _Target, headers: list[tuple[str, str]], body: bytes | None,
            ask: _Ask) -> _Hop:
        if self.record.requests >= self.policy.max_requests:
            raise EgressError("request_limit", f"the call's cap of {self.policy.max_requests} HTTP requests "
                                               f"is reached (request to {target.host})")
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

    def exchange(self, method: str, target: _Target, headers: list[tuple[str, str]], body: bytes | None,
                 ask: _Ask) -> _Hop:
        url_rule = self.policy.rule_for(target.scheme, target.host, target.port, target.literal)
        if self.until - time.monotonic() <= 0:
            raise EgressError("connect_timeout", f"no time is left before the call's deadline for {target.host}")
        addresses = resolve(self.policy, target, self.until)
        check_addresses(self.policy, target, addresses, url_rule)
        tls = _tls_context(self.policy.ca_pem) if target.scheme == "https" else None
        wait = _Wait(self.until, ask.read_timeout, self.budget)
        connection = self.connect(target, addresses, wait, ask.connect_timeout, tls)
        try:
            return self.converse(connection, wait, method, target, headers, body, ask.follow_redirects)
        finally:
            connection.close()

    def connect(self, target: _Target, addresses: Sequence[IPAddress], wait: _Wait,
                connect_timeout: float | None, tls: ssl.SSLContext | None) -> _PinnedConnection:
        failures = []
        for address in addresses:
            connection = _PinnedConnection(target.host, target.port, target.scheme, address, wait,
                                           connect_timeout, tls)
            try:
                connection.connect()
                return connection
            except ssl.SSLCertVerificationError as exc:
                raise EgressError("ssl", f"the certificate of {target.host} did not verify: "
                                         f"{exc.verify_message or exc.reason}") from None
            except ssl.SSLError as exc:
                raise EgressError("ssl", f"TLS with {target.host} failed: {exc.reason or exc}") from None
            except TimeoutError:
                raise self.timed_out("connect_timeout", f"connecting to {target.host}", connection.connect_wait,
                                     connect_timeout) from None
            except OSError as exc:
                failures.append(f"{address}: {exc.strerror or exc}")
        raise EgressError("connection", f"cannot connect to {target.host} ({'; '.join(failures)})")

    def converse(self, connection: _PinnedConnection, wait: _Wait, method: str, target: _Target,
                 headers: list[tuple[str, str]], body: bytes | None, follow: bool) -> _Hop:
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
            raise EgressError("connection", f"{target.host} broke HTTP: {type(exc).__name__}: {exc}"[:_LOG_DETAIL_CHARS]) from None
        except ssl.SSLError as exc:
            raise EgressError("ssl", f"TLS with {target.host} failed: {exc.reason or exc}") from None
        except OSError as exc:
            raise EgressError("connection", f"the connection to {target.host} failed: {exc.strerror or exc}") from None

    def read_body(self, response: http.client.HTTPResponse, target: _Target) -> bytes:
        """The body; every byte was counted by the socket as it came (``ResponseBudget``)."""
        left = self.budget.cap - self.budget.used
        if response.length is not None and response.length > left:
            raise self.too_large(target, f"announces {response.length} bytes")
        chunks = []
        while True:
            chunk = response.read1(_READ_CHUNK)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)

    def too_large(self, target: _Target, what: str) -> EgressError:
        return EgressError("too_large", f"the response from {target.host} {what}: the call's cap is "
                                        f"{self.policy.max_response_bytes} response bytes "
                                        f"({self.budget.used} used)")

    def timed_out(self, kind: str, doing: str, wait: _Wait, tool_timeout: float | None) -> EgressError:
        if wait.deadline_bound or tool_timeout is None:
            return EgressError(kind, f"{doing} did not finish before the call's deadline")
        return EgressError(kind, f"{doing} timed out (timeout={tool_timeout:g} s)")

    def note(self, method: str, target: _Target, status: str, started: float, detail: str = "") -> None:
        ms = (time.monotonic() - started) * 1000.0
        _note(self.record, self.redact, method, target.netloc, status, ms, detail)


def _note(record: EgressRecord, redact: Callable[[str], str], method: str, host: str, status: str,
          ms: float, detail: str = "") -> None:
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


def _redirected(method: str, status: int, body: bytes | None,
                headers: list[tuple[str, str]]) -> tuple[str, bytes | None, list[tuple[str, str]]]:
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
        "history": [{"status": h.status, "reason": h.reason, "headers": [[n, v] for n, v in h.headers],
                     "url": h.target.url, "elapsed_ms": round(h.elapsed_ms, 3)} for h in history],
    }


def request_deadline(call_deadline: float, call_deadline_ms: int) -> float:
    """When a request must end: the call's deadline less a reserve for the tool to answer."""
    reserve = min(max(call_deadline_ms / 1000.0 * _RESERVE_FRACTION, _RESERVE_MIN_S), _RESERVE_MAX_S)
    return call_deadline - reserve


def serve(message: Any, *, policy: EgressPolicy | None, record: EgressRecord, deadline: float,
          deadline_ms: int, secrets: Iterable[str], redact: Callable[[str], str]) -> bytes:
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
            raise EgressError("refused", f"outbound HTTP is not enabled for this tenant: "
                                         f"the request to {ask.target.host} is refused")
        hop, history = _Fetch(policy, record, request_deadline(deadline, deadline_ms), list(secrets),
                              redact).run(ask)
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
    return json.dumps({"ok": False, "kind": error.kind, "error": redact(error.message) or ""},
                      ensure_ascii=False).encode()


def _describe(message: Any) -> tuple[str, str]:
    """Method and host for the log line of a request that may be malformed."""
    raw = message if type(message) is dict else {}
    method = raw.get("method") if type(raw.get("method")) is str and raw.get("method") in METHODS else "?"
    try:
        host = parse_url(raw.get("url")).netloc
    except EgressError:
        host = "-"
    return method, host


# ---------------------------------------------------------------------------------------
# Policies from command-line flags
# ---------------------------------------------------------------------------------------


def policy_from_flags(allow_hosts: Sequence[str], allow_addresses: Sequence[str]) -> EgressPolicy | None:
    """``--allow-host [SCHEME://]HOST[:PORT]`` and ``--allow-address ADDR[/PREFIX][:PORT]``
    (IPv6 in brackets: ``[::1]:8080``). None when neither is given: no egress at all.
    A host without a scheme is https only. Raises ValueError naming the flag's value."""
    if not allow_hosts and not allow_addresses:
        return None
    policy = EgressPolicy()
    for spec in allow_hosts:
        scheme, _, rest = spec.rpartition("://")
        host, port = _split_port(rest, spec)
        policy = policy.with_host(host, ports=[port] if port else None, schemes=[scheme.lower() or "https"])
    for spec in allow_addresses:
        address, port = _split_port(spec, spec)
        policy = policy.with_address(address, ports=[port] if port else None)
    return policy


def _split_port(text: str, spec: str) -> tuple[str, int | None]:
    if text.startswith("["):
        address, _, rest = text[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise ValueError(f"{spec!r}: expected [ADDRESS]:PORT")
        port_text = rest[1:] if rest else ""
    elif text.count(":") == 1:
        address, port_text = text.split(":")
    else:
        address, port_text = text, ""
    if not port_text:
        return address, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{spec!r}: the port must be a number from 1 to 65535")
    return address, int(port_text)
