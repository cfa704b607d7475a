"""A tenant's egress policy as frozen data, and the decisions it makes.

Runs in the trusted supervisor; the service builds the policy from the tenant's stored
policy plus its own ports (worker/service.py), the CLI from its flags
(``policy_from_flags``). Tenant data is validated here, field by field, whatever its
source: ``EgressPolicy.from_dict`` is the inverse of ``to_dict``, the form that is stored
and sent on the wire.

The decisions: ``EgressPolicy.rule_for`` says which rule allows a URL's scheme, host and
port (before any lookup), and ``address_refusal`` why a request may not connect to one
resolved address (never-reachable ranges, this host's own addresses and the service's
own ports, each reachable only where a rule names it). sandbox/egress/fetch.py asks both
on every hop, redirects included.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, cast

from sandbox.egress.addresses import IPAddress, IPNetwork, carried_ipv4, interface_addresses, never_reachable_reason
from sandbox.egress.connection import tls_context
from sandbox.egress.errors import EgressError

Resolver = Callable[[str, int], Iterable[str]]
"""``resolver(host, port) -> addresses`` (IP strings). The default is ``getaddrinfo``."""

SCHEMES: Mapping[str, int] = MappingProxyType({"http": 80, "https": 443})
"""The URL schemes egress speaks, with their default ports."""

# Ceilings any policy must stay under: a response travels to the child in one JSON frame
# (base64), and a request body comes from it in one frame capped by the call's output
# limits (sandbox/policy.py Limits.reply_bytes, about 1.2 MB by default).
MAX_REQUESTS_CEILING = 100
MAX_RESPONSE_BYTES_CEILING = 16 * 1024 * 1024
MAX_REQUEST_BYTES_CEILING = 512 * 1024
MAX_REDIRECTS_CEILING = 10

# After IDNA: letters, digits, hyphens (and underscores, which some internal names use).
_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\Z")


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

    def with_host(
        self, pattern: str, *, ports: Iterable[int] | None = None, schemes: Iterable[str] = ("https",)
    ) -> EgressPolicy:
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
        return dataclasses.replace(self, hosts=(*self.hosts, rule))

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
        return dataclasses.replace(self, addresses=(*self.addresses, rule))

    def with_limits(self, **changes: int) -> EgressPolicy:
        """Change ``max_requests``, ``max_response_bytes``, ``max_request_bytes`` or
        ``max_redirects``, each a positive int (redirects may be 0) under its ceiling."""
        ceilings = {
            "max_requests": MAX_REQUESTS_CEILING,
            "max_response_bytes": MAX_RESPONSE_BYTES_CEILING,
            "max_request_bytes": MAX_REQUEST_BYTES_CEILING,
            "max_redirects": MAX_REDIRECTS_CEILING,
        }
        for name, value in changes.items():
            if name not in ceilings:
                raise ValueError(f"egress has no limit {name!r} (limits: {', '.join(ceilings)})")
            lowest = 0 if name == "max_redirects" else 1
            if type(value) is not int or not lowest <= value <= ceilings[name]:
                raise ValueError(f"egress.{name} must be an integer from {lowest} to {ceilings[name]}, got {value!r}")
        return dataclasses.replace(
            self,
            max_requests=changes.get("max_requests", self.max_requests),
            max_response_bytes=changes.get("max_response_bytes", self.max_response_bytes),
            max_request_bytes=changes.get("max_request_bytes", self.max_request_bytes),
            max_redirects=changes.get("max_redirects", self.max_redirects),
        )

    def with_protected_ports(self, ports: Iterable[int]) -> EgressPolicy:
        """The service's own ports (gRPC, metrics...): refused on every address unless
        the rule that allows the URL lists the port."""
        return dataclasses.replace(self, protected_ports=_ports(list(ports) or None, "protected ports") or frozenset())

    def with_ca(self, pem: str | None) -> EgressPolicy:
        if pem is not None:
            tls_context(pem)  # raises ssl.SSLError for a PEM that does not load
        return dataclasses.replace(self, ca_pem=pem)

    def with_resolver(self, resolver: Resolver | None) -> EgressPolicy:
        return dataclasses.replace(self, resolver=resolver)

    # -- plain data, for storage and the wire -----------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The tenant's part as plain data (not ``protected_ports`` nor ``resolver``)."""
        return {
            "hosts": [
                {"pattern": r.pattern, "ports": sorted(r.ports) if r.ports else None, "schemes": sorted(r.schemes)}
                for r in self.hosts
            ],
            "addresses": [
                {"network": str(r.network), "ports": sorted(r.ports) if r.ports else None} for r in self.addresses
            ],
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
        unknown = set(data) - {
            "hosts",
            "addresses",
            "max_requests",
            "max_response_bytes",
            "max_request_bytes",
            "max_redirects",
            "ca_pem",
        }
        if unknown:
            raise ValueError(f"egress policy: unknown fields {sorted(unknown)}")
        policy = cls()
        for index, rule in enumerate(data.get("hosts") or ()):
            if not isinstance(rule, Mapping):
                raise ValueError(f"hosts[{index}] must be an object")
            # Unchecked values: with_host and with_address check each one's type themselves.
            policy = policy.with_host(
                cast(str, rule.get("pattern")), ports=rule.get("ports"), schemes=rule.get("schemes") or ("https",)
            )
        for index, rule in enumerate(data.get("addresses") or ()):
            if not isinstance(rule, Mapping):
                raise ValueError(f"addresses[{index}] must be an object")
            policy = policy.with_address(cast(str, rule.get("network")), ports=rule.get("ports"))
        limits = {
            k: data[k]
            for k in ("max_requests", "max_response_bytes", "max_request_bytes", "max_redirects")
            if data.get(k) is not None
        }
        return policy.with_limits(**limits).with_ca(data.get("ca_pem"))

    # -- decisions ------------------------------------------------------------------

    def address_rule(self, address: IPAddress) -> AddressRule | None:
        """The rule naming ``address`` (or the IPv4 address it carries), if any."""
        candidates = {address, carried_ipv4(address) or address}
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
                    raise EgressError(
                        "refused",
                        f"{host} is not reachable: {reason}, never reachable unless the egress policy names it",
                    )
                raise EgressError("refused", f"host {host} is not in this tenant's egress allowlist")
            if rule.ports is not None and port not in rule.ports:
                raise EgressError(
                    "refused",
                    f"port {port} of {host} is not allowed by the egress policy "
                    f"(allowed: {', '.join(map(str, sorted(rule.ports)))})",
                )
            return rule
        named = [rule for rule in self.hosts if rule.matches_host(host)]
        if not named:
            raise EgressError("refused", f"host {host} is not in this tenant's egress allowlist")
        for host_rule in named:
            if scheme in host_rule.schemes and host_rule.allows_port(scheme, port):
                return host_rule
        allowed = "; ".join(rule.describe() for rule in named)
        raise EgressError(
            "refused",
            f"{scheme}://{host}:{port} is not allowed by the egress policy (allowed for this host: {allowed})",
        )


# ---------------------------------------------------------------------------------------
# Which addresses a request may connect to
# ---------------------------------------------------------------------------------------


def address_refusal(
    policy: EgressPolicy,
    address: IPAddress,
    port: int,
    url_rule: HostRule | AddressRule,
    host_addresses: Callable[[], frozenset[IPAddress]] = interface_addresses,
) -> str | None:
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
        if address in mine or carried_ipv4(address) in mine:
            reason = "an address of this host"
    return f"{reason}, never reachable unless the egress policy names it" if reason else None


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
