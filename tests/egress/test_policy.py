"""sandbox/egress/ without the network: the policy as data, and every check the fetch makes
before it connects (URL, headers, request shape, addresses), one case per line."""

from __future__ import annotations

import ipaddress

import pytest

from sandbox.egress.addresses import interface_addresses, never_reachable_reason
from sandbox.egress.errors import EgressError
from sandbox.egress.policy import MAX_REQUESTS_CEILING, EgressPolicy, HostRule, address_refusal, policy_from_flags
from sandbox.egress.request import check_headers, check_request, parse_url

# ---------------------------------------------------------------------------------------
# the policy: frozen data, built with with_*, validated
# ---------------------------------------------------------------------------------------


def test_policy_is_frozen_data_built_with_builders():
    base = EgressPolicy()
    policy = base.with_host("API.Example.com.").with_host("*.crm.example.com", ports=[8443], schemes=["https", "http"])
    assert base.hosts == ()  # builders never mutate
    assert policy.hosts == (
        HostRule("api.example.com", None, frozenset({"https"})),
        HostRule("*.crm.example.com", frozenset({8443}), frozenset({"http", "https"})),
    )
    with pytest.raises(Exception):
        policy.max_requests = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "pattern, problem",
    [
        ("*", "not a valid host name"),
        ("*.com", "at least two labels"),
        ("api.*.example.com", "not a valid host name"),
        ("10.0.0.1", "numeric address"),
        ("2130706433", "numeric address"),
        ("a b.example.com", "not a valid host name"),
        ("exa_mple.com:80", "not a valid host name"),
    ],
)
def test_host_patterns_are_refused_when_malformed(pattern, problem):
    with pytest.raises(ValueError) as info:
        EgressPolicy().with_host(pattern)
    assert problem in str(info.value)


def test_addresses_and_limits_are_validated():
    assert EgressPolicy().with_address("10.1.2.0/24", ports=[80]).addresses[0].network == ipaddress.ip_network(
        "10.1.2.0/24"
    )
    for bad in ("0.0.0.0/0", "::/0", "10.1.2.3/24", "api.example.com"):
        with pytest.raises(ValueError):
            EgressPolicy().with_address(bad)
    with pytest.raises(ValueError, match="ports"):
        EgressPolicy().with_address("127.0.0.1", ports=[0])
    with pytest.raises(ValueError, match="max_requests"):
        EgressPolicy().with_limits(max_requests=MAX_REQUESTS_CEILING + 1)
    with pytest.raises(ValueError, match="no limit"):
        EgressPolicy().with_limits(max_sockets=3)
    assert EgressPolicy().with_limits(max_redirects=0).max_redirects == 0


def test_plain_data_round_trip_leaves_out_what_the_service_sets():
    policy = (
        EgressPolicy()
        .with_host("*.example.com", ports=[443, 8443])
        .with_address("10.0.0.0/8", ports=[80])
        .with_limits(max_requests=7)
        .with_protected_ports([50051])
        .with_resolver(lambda h, p: [])
    )
    data = policy.to_dict()
    assert data["hosts"] == [{"pattern": "*.example.com", "ports": [443, 8443], "schemes": ["https"]}]
    assert "protected_ports" not in data and "resolver" not in data
    again = EgressPolicy.from_dict(data)
    assert again.hosts == policy.hosts and again.addresses == policy.addresses and again.max_requests == 7
    assert again.protected_ports == frozenset() and again.resolver is None
    with pytest.raises(ValueError, match="unknown fields"):
        EgressPolicy.from_dict({**data, "protected_ports": []})


def test_policy_from_cli_flags():
    assert policy_from_flags([], []) is None
    policy = policy_from_flags(
        ["api.example.com", "http://localhost:8080", "*.crm.example.com:8443"],
        ["127.0.0.1:8080", "[::1]:8080", "10.0.0.0/8"],
    )
    assert [(r.pattern, r.ports, r.schemes) for r in policy.hosts] == [
        ("api.example.com", None, frozenset({"https"})),
        ("localhost", frozenset({8080}), frozenset({"http"})),
        ("*.crm.example.com", frozenset({8443}), frozenset({"https"})),
    ]
    assert [(str(r.network), r.ports) for r in policy.addresses] == [
        ("127.0.0.1/32", frozenset({8080})),
        ("::1/128", frozenset({8080})),
        ("10.0.0.0/8", None),
    ]
    with pytest.raises(ValueError):
        policy_from_flags(["api.example.com:http"], [])


# ---------------------------------------------------------------------------------------
# matching a URL against the rules
# ---------------------------------------------------------------------------------------

POLICY = (
    EgressPolicy()
    .with_host("api.example.com")
    .with_host("*.crm.example.com", ports=[8443])
    .with_address("10.1.2.3", ports=[8080])
)


@pytest.mark.parametrize(
    "url, allowed",
    [
        ("https://api.example.com/v1", True),
        ("https://API.EXAMPLE.COM./v1", True),
        ("http://api.example.com/v1", False),  # scheme not allowed
        ("https://api.example.com:8443/v1", False),  # port not allowed
        ("https://x.api.example.com/", False),  # exact rule: no subdomains
        ("https://eu.crm.example.com:8443/", True),
        ("https://a.b.crm.example.com:8443/", True),  # any depth below the wildcard
        ("https://crm.example.com:8443/", False),  # the wildcard excludes the apex
        ("https://evilcrm.example.com:8443/", False),
        ("https://crm.example.com.evil.test:8443/", False),
        ("http://10.1.2.3:8080/", True),  # an address rule allows its literal
        ("http://10.1.2.3:8081/", False),
        ("http://10.1.2.4:8080/", False),
    ],
)
def test_rules_match_scheme_host_and_port(url, allowed):
    target = parse_url(url)
    if allowed:
        POLICY.rule_for(target.scheme, target.host, target.port, target.literal)
    else:
        with pytest.raises(EgressError) as info:
            POLICY.rule_for(target.scheme, target.host, target.port, target.literal)
        assert info.value.kind == "refused" and target.host in info.value.message


# ---------------------------------------------------------------------------------------
# URLs: strict where parsers disagree
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, problem",
    [
        ("https://api.example.com/a\r\nHost: evil.test", "control characters"),
        ("https://api.example.com/a b", "spaces"),
        ("https://api.example.com/\x00", "control characters"),
        ("ftp://api.example.com/", "not supported"),
        ("https://api.example.com@169.254.169.254/", "credentials"),
        ("https://user:pw@api.example.com/", "credentials"),
        ("https://api.example.com\\evil.test/", "backslash"),
        ("https://api%2eexample.com/", "percent"),
        ("https://2130706433/", "numeric address"),
        ("https://0x7f.0.0.1/", "numeric address"),
        ("https://127.1/", "numeric address"),
        ("https://[fe80::1%25eth0]/", "percent"),
        ("https://api.example.com:99999/", "cannot be parsed"),
        ("https://api.example.com:0/", "port 0"),
        ("https:///path", "no host"),
        ("https://" + "a" * 9000 + ".com/", "longer than"),
    ],
)
def test_urls_are_refused_for_the_right_reason(url, problem):
    with pytest.raises(EgressError) as info:
        parse_url(url)
    assert info.value.kind == "invalid_url"
    assert problem in info.value.message


def test_url_parts_are_normalised():
    target = parse_url("HTTPS://Bücher.Example.COM/päth?q=ü#frag")
    assert (target.scheme, target.host, target.port) == ("https", "xn--bcher-kva.example.com", 443)
    assert target.path == "/p%C3%A4th?q=%C3%BC"  # percent-encoded; the fragment is dropped
    v6 = parse_url("http://[::1]:8080")
    assert (v6.host, v6.literal, v6.netloc, v6.path) == ("::1", ipaddress.ip_address("::1"), "[::1]:8080", "/")


# ---------------------------------------------------------------------------------------
# headers: injection and reserved names
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, value, problem",
    [
        ("X-A", "1\r\nX-Injected: 1", "header injection"),
        ("X-A", "1\nX-Injected: 1", "header injection"),
        ("X-A", "1\rX", "header injection"),
        ("X-A", "a\x00b", "header injection"),
        ("X-A\r\nX-Injected", "1", "not a valid HTTP token"),
        ("X-A: 1\r\n", "1", "not a valid HTTP token"),
        ("X A", "1", "not a valid HTTP token"),
        ("", "1", "not a valid HTTP token"),
        ("Host", "other-tenant.example.com", "cannot be set by a tool"),
        ("host", "x", "cannot be set by a tool"),
        ("Transfer-Encoding", "chunked", "cannot be set by a tool"),
        ("Content-Length", "0", "cannot be set by a tool"),
        ("Connection", "upgrade", "cannot be set by a tool"),
        ("Accept-Encoding", "gzip", "cannot be set by a tool"),
        ("X-A", "caf\u00e9 \u2603", "latin-1"),
    ],
)
def test_headers_are_refused_for_the_right_reason(name, value, problem):
    with pytest.raises(EgressError) as info:
        check_headers([[name, value]])
    assert info.value.kind == "invalid_header"
    assert problem in info.value.message
    assert len(value) < 4 or value not in info.value.message  # a value (maybe a secret) is never echoed


def test_headers_a_tool_may_send():
    assert check_headers([["Authorization", "Bearer x"], ["X-Tab", "a\tb"], ["Cookie", "a=1"]]) == [
        ("Authorization", "Bearer x"),
        ("X-Tab", "a\tb"),
        ("Cookie", "a=1"),
    ]


@pytest.mark.parametrize(
    "message, kind",
    [
        ("not an object", "invalid_request"),
        ({"method": "GET\r\nX: 1", "url": "https://a.example.com/"}, "invalid_request"),
        ({"method": "CONNECT", "url": "https://a.example.com/"}, "invalid_request"),
        ({"method": "GET", "url": 7}, "invalid_url"),
        ({"method": "GET", "url": "https://a.example.com/", "headers": {"X": "1"}}, "invalid_header"),
        ({"method": "POST", "url": "https://a.example.com/", "body": "not base64!"}, "invalid_request"),
        ({"method": "POST", "url": "https://a.example.com/", "body": "QUFB" * 100_000}, "invalid_request"),
        ({"method": "GET", "url": "https://a.example.com/", "timeout": [float("nan"), 1]}, "invalid_request"),
        ({"method": "GET", "url": "https://a.example.com/", "timeout": [1, 10_000]}, "invalid_request"),
        ({"method": "GET", "url": "https://a.example.com/", "redirects": "yes"}, "invalid_request"),
    ],
)
def test_malformed_requests_from_a_hostile_child(message, kind):
    with pytest.raises(EgressError) as info:
        check_request(message, EgressPolicy())
    assert info.value.kind == kind


# ---------------------------------------------------------------------------------------
# addresses: never reachable unless named
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address, reason",
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("169.254.169.254", "cloud metadata"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("0.0.0.0", "this network"),
        ("224.0.0.251", "multicast"),
        ("255.255.255.255", "reserved"),
        ("198.18.0.1", "benchmarking"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fd00:ec2::254", "unique local"),  # the IPv6 metadata address of AWS
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "carries 127.0.0.1, which is a loopback"),
        ("::ffff:169.254.169.254", "carries 169.254.169.254"),
        ("64:ff9b::a9fe:a9fe", "carries 169.254.169.254"),  # NAT64 to the metadata address
        ("2002:7f00:1::1", "6to4"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
        ("::127.0.0.1", "IPv4-compatible"),
    ],
)
def test_never_reachable_addresses(address, reason):
    found = never_reachable_reason(ipaddress.ip_address(address))
    assert found is not None and reason in found


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_reachable(address):
    assert never_reachable_reason(ipaddress.ip_address(address)) is None


def test_naming_an_address_makes_it_reachable_on_its_ports_only():
    rule = HostRule("api.example.com", None, frozenset({"https"}))
    loopback = ipaddress.ip_address("127.0.0.1")
    assert "loopback" in address_refusal(EgressPolicy(), loopback, 443, rule, frozenset)
    assert address_refusal(EgressPolicy().with_address("127.0.0.1"), loopback, 443, rule, frozenset) is None
    mapped = ipaddress.ip_address("::ffff:127.0.0.1")  # named through the address it carries
    assert address_refusal(EgressPolicy().with_address("127.0.0.1"), mapped, 443, rule, frozenset) is None
    only_80 = EgressPolicy().with_address("127.0.0.0/8", ports=[80])
    assert "only for ports 80" in address_refusal(only_80, loopback, 443, rule, frozenset)


def test_this_hosts_own_public_address_is_not_reachable():
    rule = HostRule("api.example.com", None, frozenset({"https"}))
    mine = ipaddress.ip_address("93.184.216.34")
    assert "this host" in address_refusal(EgressPolicy(), mine, 443, rule, lambda: frozenset({mine}))


def test_the_services_own_ports_need_a_rule_that_lists_them():
    policy = EgressPolicy().with_address("127.0.0.1").with_protected_ports([50051, 9464])
    loopback = ipaddress.ip_address("127.0.0.1")
    public = ipaddress.ip_address("93.184.216.34")
    any_port = policy.addresses[0]
    for address in (loopback, public):  # on every address: NAT may lead back to the service
        assert "service's own ports" in address_refusal(policy, address, 50051, any_port, frozenset)
    listed = EgressPolicy().with_address("127.0.0.1", ports=[50051]).with_protected_ports([50051])
    assert address_refusal(listed, loopback, 50051, listed.addresses[0], frozenset) is None


def test_this_hosts_addresses_are_read_from_its_interfaces():
    assert ipaddress.ip_address("127.0.0.1") in interface_addresses()
