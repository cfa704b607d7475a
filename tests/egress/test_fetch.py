"""sandbox.egress.fetch.serve against local servers, with raw requests as a child would send
them, including a child whose runtime (sandbox/child/http.py) is compromised and sends
what no honest child would. No child process here: see test_tools.py for the pool."""

from __future__ import annotations

import base64
import ipaddress
import json
import socket
import time

import pytest

from sandbox.egress import fetch
from sandbox.egress.errors import EgressRecord
from sandbox.egress.policy import EgressPolicy
from tests.egress.conftest import API, local_policy, tls_policy
from tests.egress.servers import TLS_HOST, Resolver

SECRET = "sk-live-0123456789abcdef"


def redact(text):
    return text.replace(SECRET, "[REDACTED]") if text else text


def ask(policy, url, *, record=None, deadline_s=5.0, **fields):
    message = {
        "op": "http",
        "method": "GET",
        "url": url,
        "headers": [],
        "body": None,
        "timeout": None,
        "redirects": True,
        **fields,
    }
    record = record if record is not None else EgressRecord()
    raw = fetch.serve(
        message,
        policy=policy,
        record=record,
        deadline=time.monotonic() + deadline_s,
        deadline_ms=int(deadline_s * 1000),
        secrets=[SECRET],
        redact=redact,
    )
    answer = json.loads(raw)
    if answer.get("ok"):
        answer["body"] = base64.b64decode(answer["body"])
    return answer


# ---------------------------------------------------------------------------------------
# happy paths
# ---------------------------------------------------------------------------------------


def test_get_json_with_the_hostname_in_the_host_header(server, token):
    record = EgressRecord()
    answer = ask(
        local_policy(server),
        f"http://{API}:{server.port}/echo/{token}?a=1",
        record=record,
        headers=[["X-Trace", "t-1"]],
    )
    assert answer["ok"] and answer["status"] == 200
    echo = json.loads(answer["body"])
    assert echo["path"] == f"/echo/{token}?a=1"
    assert echo["headers"]["Host"] == f"{API}:{server.port}"  # the name, not the address
    assert echo["headers"]["X-Trace"] == "t-1"
    assert echo["headers"]["Accept-Encoding"] == "identity"
    assert echo["headers"]["Connection"] == "close"
    assert record.requests == 1 and record.response_bytes > len(answer["body"])
    assert record.lines == [("info", record.lines[0][1])]
    assert record.lines[0][1].startswith(f"http GET {API}:{server.port} 200 ")


def test_post_body_and_methods(server, token):
    body = base64.b64encode(b'{"a": 1}').decode()
    for method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        answer = ask(
            local_policy(server),
            f"http://{API}:{server.port}/echo/{token}",
            method=method,
            body=body,
            headers=[["Content-Type", "application/json"]],
        )
        echo = json.loads(answer["body"])
        assert (echo["method"], echo["body"], echo["headers"]["Content-Length"]) == (method, '{"a": 1}', "8")
    head = ask(local_policy(server), f"http://{API}:{server.port}/json", method="HEAD")
    assert head["status"] == 200 and head["body"] == b""


def test_redirects_are_followed_and_recorded(server, token):
    record = EgressRecord()
    answer = ask(
        local_policy(server),
        f"http://{API}:{server.port}/redirect?to=/echo/{token}&code=307",
        record=record,
        method="POST",
        body=base64.b64encode(b"keep").decode(),
    )
    assert answer["status"] == 200 and [h["status"] for h in answer["history"]] == [307]
    assert json.loads(answer["body"])["body"] == "keep"  # 307 keeps method and body
    assert answer["url"] == f"http://{API}:{server.port}/echo/{token}"
    assert record.requests == 2 and [line.split()[3] for _, line in record.lines] == ["307", "200"]
    see_other = ask(
        local_policy(server),
        f"http://{API}:{server.port}/redirect?to=/echo/{token}&code=303",
        method="POST",
        body=base64.b64encode(b"drop").decode(),
    )
    assert json.loads(see_other["body"])["method"] == "GET"  # 303 becomes GET without a body
    unfollowed = ask(local_policy(server), f"http://{API}:{server.port}/redirect?to=/json", redirects=False)
    assert unfollowed["status"] == 302 and unfollowed["history"] == []


def test_too_many_redirects(server):
    policy = local_policy(server).with_limits(max_redirects=2)
    loop = f"http://{API}:{server.port}/redirect?to=/redirect%3Fto%3D/redirect%253Fto%253D/json"
    answer = ask(policy, loop)
    assert answer["kind"] == "too_many_redirects"


def test_a_redirect_the_fetch_cannot_follow_is_logged_not_counted(server):
    record = EgressRecord()
    answer = ask(
        local_policy(server), f"http://{API}:{server.port}/redirect?to=http://{API}%40169.254.169.254/", record=record
    )
    assert answer["kind"] == "invalid_url" and answer["error"].startswith(f"redirect from {API}: credentials")
    assert record.requests == 1 and [line.split()[3] for _, line in record.lines] == ["302", "invalid_url"]


def test_errors_are_responses_not_failures(server):
    answer = ask(local_policy(server), f"http://{API}:{server.port}/status/503")
    assert (answer["status"], answer["body"]) == (503, b"status 503")


# ---------------------------------------------------------------------------------------
# TLS: SNI, certificate and Host all use the hostname; the connection goes to the address
# ---------------------------------------------------------------------------------------


def test_https_verifies_the_certificate_against_the_hostname(tls_server, token):
    sni_before = len(tls_server.sni)
    answer = ask(tls_policy(tls_server), f"https://{TLS_HOST}:{tls_server.port}/echo/{token}")
    assert answer["status"] == 200
    assert tls_server.sni[sni_before:] == [TLS_HOST]  # SNI: the name, though we connected to 127.0.0.1
    assert json.loads(answer["body"])["headers"]["Host"] == f"{TLS_HOST}:{tls_server.port}"


def test_https_refuses_a_certificate_for_another_name(tls_server, token):
    # other.tls.test resolves to the same server, whose certificate names api.tls.test only
    policy = tls_policy(tls_server, "other.tls.test")
    answer = ask(policy, f"https://other.tls.test:{tls_server.port}/echo/{token}")
    assert answer["kind"] == "ssl" and "other.tls.test" in answer["error"]
    assert tls_server.hits_for(token) == []


def test_https_refuses_an_untrusted_certificate(tls_server, token):
    answer = ask(tls_policy(tls_server, ca=None), f"https://{TLS_HOST}:{tls_server.port}/echo/{token}")
    assert answer["kind"] == "ssl" and "certificate" in answer["error"]
    assert tls_server.hits_for(token) == []


# ---------------------------------------------------------------------------------------
# DNS: resolved once, every address checked, the checked address is the one connected to
# ---------------------------------------------------------------------------------------


def test_the_connection_goes_to_the_checked_address_without_a_second_lookup(server, token, monkeypatch):
    # A rebinding DNS server: the first answer is the (named) loopback address, every later
    # answer the metadata address. The fetch must look up once and connect to that answer.
    resolver = Resolver({API: ["127.0.0.1"]}, then={API: ["169.254.169.254"]})

    def no_lookup(*args, **kwargs):
        raise AssertionError("a second, unchecked DNS lookup")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    monkeypatch.setattr(socket, "create_connection", no_lookup)
    answer = ask(local_policy(server, resolver=resolver), f"http://{API}:{server.port}/echo/{token}")
    assert answer["status"] == 200 and resolver.calls == [API]
    again = ask(local_policy(server, resolver=resolver), f"http://{API}:{server.port}/echo/{token}")
    assert again["kind"] == "refused" and "169.254.169.254" in again["error"]
    assert len(server.hits_for(token)) == 1


def test_every_resolved_address_is_checked(server, token):
    policy = (
        EgressPolicy()
        .with_host(API, ports=[server.port], schemes=["http"])
        .with_resolver(Resolver({API: ["93.184.216.34", "127.0.0.1"]}))
    )
    answer = ask(policy, f"http://{API}:{server.port}/echo/{token}")
    assert answer["kind"] == "refused"
    assert "resolves to 127.0.0.1" in answer["error"] and "loopback" in answer["error"]
    assert server.hits_for(token) == []


@pytest.mark.parametrize("address", ["::ffff:127.0.0.1", "0.0.0.0", "127.1.2.3", "::1"])
def test_loopback_in_disguise_is_refused(server, token, address):
    policy = (
        EgressPolicy().with_host(API, ports=[server.port], schemes=["http"]).with_resolver(Resolver({API: [address]}))
    )
    answer = ask(policy, f"http://{API}:{server.port}/echo/{token}")
    assert answer["kind"] == "refused" and f"resolves to {ipaddress.ip_address(address)}" in answer["error"]
    assert server.hits_for(token) == []


def test_a_resolver_that_hangs_is_bounded_by_the_deadline(server):
    def hang(host, port):
        time.sleep(30)
        return ["127.0.0.1"]

    answer = ask(local_policy(server).with_resolver(hang), f"http://{API}:{server.port}/json", deadline_s=0.5)
    assert answer["kind"] == "connect_timeout" and "resolving api.test" in answer["error"]


def test_lookups_in_flight_are_bounded_process_wide(server, monkeypatch):
    import threading

    monkeypatch.setattr(fetch, "_LOOKUPS_IN_FLIGHT", threading.BoundedSemaphore(1))
    fetch._LOOKUPS_IN_FLIGHT.acquire()  # one lookup a dead DNS zone holds
    answer = ask(local_policy(server), f"http://{API}:{server.port}/json")
    assert answer["kind"] == "connect_timeout" and "too many DNS lookups in flight" in answer["error"]


def test_the_services_own_port_is_refused_on_an_allowed_address(server, token):
    policy = local_policy(server).with_protected_ports([server.port])
    answer = ask(policy, f"http://127.0.0.1:{server.port}/echo/{token}")
    assert answer["kind"] == "refused" and "service's own ports" in answer["error"]
    assert server.hits_for(token) == []


# ---------------------------------------------------------------------------------------
# attacks a compromised child could send: the supervisor refuses them on its own
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, kind",
    [
        ({"headers": [["X-A", "1\r\nX-Injected: 1"]]}, "invalid_header"),
        ({"headers": [["X-A\r\nX-Injected", "1"]]}, "invalid_header"),
        ({"headers": [["X-A", "1\x00X-Injected: 1"]]}, "invalid_header"),
        ({"headers": [["Host", "api.other-tenant.test"]]}, "invalid_header"),
        ({"headers": [["Transfer-Encoding", "chunked"]]}, "invalid_header"),
        ({"method": "GET /admin HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET"}, "invalid_request"),
        ({"url_suffix": "\r\nX-Injected: 1"}, "invalid_url"),
        ({"url_suffix": " HTTP/1.1\r\nX-Injected: 1\r\n\r\n"}, "invalid_url"),
    ],
)
def test_header_injection_is_refused_by_the_supervisor(server, token, fields, kind):
    url = f"http://{API}:{server.port}/echo/{token}" + fields.pop("url_suffix", "")
    answer = ask(local_policy(server), url, **fields)
    assert answer["kind"] == kind
    assert server.hits_for(token) == []
    assert not any("X-Injected" in h["headers"] or "Injected" in h["path"] for h in server.hits)


def test_no_policy_refuses_every_request_naming_the_host(server):
    record = EgressRecord()
    answer = ask(None, f"http://{API}:{server.port}/json", record=record)
    assert answer["kind"] == "refused"
    assert "not enabled for this tenant" in answer["error"] and API in answer["error"]
    assert record.requests == 1 and "refused" in record.lines[0][1]


# ---------------------------------------------------------------------------------------
# caps, deadline, secrets
# ---------------------------------------------------------------------------------------


def test_request_cap_counts_hops_and_refusals(server):
    policy = local_policy(server).with_limits(max_requests=3)
    record = EgressRecord()
    assert ask(policy, f"http://{API}:{server.port}/redirect?to=/json", record=record)["status"] == 200
    assert ask(policy, "http://not-allowed.test/", record=record)["kind"] == "refused"
    for _ in range(5):
        assert ask(policy, f"http://{API}:{server.port}/json", record=record)["kind"] == "request_limit"
    assert record.requests == 8
    lines = [r["message"] for r in record.log_records()]
    assert len(lines) == 4  # 3 requests, then one summary line: a loop cannot flood the logs
    assert "5 further HTTP requests refused" in lines[-1]


def test_response_byte_cap(server):
    policy = local_policy(server).with_limits(max_response_bytes=100_000)
    record = EgressRecord()
    announced = ask(policy, f"http://{API}:{server.port}/huge?bytes=50000000", record=record)
    assert announced["kind"] == "too_large" and "announces 50000000 bytes" in announced["error"]
    endless = ask(policy, f"http://{API}:{server.port}/endless", record=EgressRecord())
    assert endless["kind"] == "too_large" and "goes past" in endless["error"]
    # the cap is per call: what one response used, the next cannot
    record = EgressRecord()
    assert ask(policy, f"http://{API}:{server.port}/huge?bytes=60000", record=record)["status"] == 200
    assert ask(policy, f"http://{API}:{server.port}/huge?bytes=60000", record=record)["kind"] == "too_large"
    assert record.response_bytes <= 100_001


@pytest.mark.parametrize("route", ["drip?every=0.05", "drip-headers?every=0.05"])
def test_a_slow_drip_ends_at_the_calls_deadline(server, route):
    answer = ask(
        local_policy(server), f"http://{API}:{server.port}/{route}", deadline_s=1.0, timeout=[1.0, 1.0]
    )  # each byte comes well within the tool's own timeout
    assert answer["kind"] == "read_timeout"
    assert "before the call's deadline" in answer["error"]


def test_the_tools_read_timeout(server):
    answer = ask(local_policy(server), f"http://{API}:{server.port}/slow?delay=3", timeout=[1, 0.2])
    assert answer["kind"] == "read_timeout" and "timeout=0.2" in answer["error"]


def test_a_secret_in_a_header_reaches_its_origin_only_and_is_redacted(server, token):
    policy = local_policy(server, API, "other.test")
    record = EgressRecord()
    other = f"http://other.test:{server.port}/echo/{token}-other"
    headers = [["Authorization", f"Bearer {SECRET}"], ["X-Api-Key", SECRET], ["X-Plain", "kept"]]
    same = ask(policy, f"http://{API}:{server.port}/redirect?to=/echo/{token}-same", headers=headers, record=record)
    assert json.loads(same["body"])["headers"]["X-Api-Key"] == SECRET  # sent, as the tool asked
    cross = ask(policy, f"http://{API}:{server.port}/redirect?to={other}", headers=headers, record=record)
    received = json.loads(cross["body"])["headers"]
    assert "Authorization" not in received and "X-Api-Key" not in received and received["X-Plain"] == "kept"
    refused = ask(policy, f"http://{SECRET}.evil.test/", record=record)
    assert SECRET not in refused["error"] and "[REDACTED].evil.test" in refused["error"]
    assert not any(SECRET in line for _, line in record.lines)
