"""What is known about an address before any policy is asked: where no request may go.

Runs in the trusted supervisor. No policy here: these are facts about addresses, which
the policy (sandbox/egress/policy.py) weighs against the addresses a tenant names. The
ranges no request reaches unless named (``NEVER_REACHABLE``, and anything ``ipaddress``
does not call global), the IPv4 address an IPv4-mapped or NAT64 address carries (judged
as that address, and connected to as it), and the addresses of this host's own
interfaces, which reach this host whatever range they are in.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import time

import psutil

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

NEVER_REACHABLE: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(network), reason)
    for network, reason in (
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


def carried_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
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
    carried = carried_ipv4(address)
    if carried is not None:
        reason = never_reachable_reason(carried)
        return f"carries {carried}, which is {reason}" if reason else None
    for network, reason in NEVER_REACHABLE:
        if address.version == network.version and address in network:
            return reason
    if not address.is_global:
        return "not a public internet address"
    return None


def interface_addresses() -> frozenset[IPAddress]:
    """The addresses of this host's interfaces: reaching them reaches this host.

    Read at most once a second (reading them costs about 0.2 ms); an address added in
    that second is missed until the next one.
    """
    return _interface_addresses_in(int(time.monotonic()))


@functools.lru_cache(maxsize=1)
def _interface_addresses_in(second: int) -> frozenset[IPAddress]:
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
