"""Fixtures for the egress tests: local servers on loopback, and tools run through the pool.

The pool is the session's confined pool (tests/conftest.py). The servers listen on
127.0.0.1, which no policy reaches unless it names the address: each test's policy
names it (``with_address("127.0.0.1")``) or deliberately does not.
"""

from __future__ import annotations

import uuid

import pytest

from sandbox.compile.compiler import compile_bundle
from sandbox.egress.policy import EgressPolicy
from sandbox.supervisor.call import CallRequest, requested_deadline, validate_input
from tests.egress.servers import CA_PEM, TLS_HOST, LocalServer, Resolver

API = "api.test"  # a public-looking name the tests' resolver maps to 127.0.0.1


@pytest.fixture(scope="session")
def server():
    srv = LocalServer().start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def tls_server():
    srv = LocalServer(tls=True).start()
    yield srv
    srv.stop()


@pytest.fixture
def token() -> str:
    """A unique path segment, to find this test's hits on the shared server."""
    return uuid.uuid4().hex[:12]


def local_policy(server: LocalServer, *hosts: str, resolver: Resolver | None = None) -> EgressPolicy:
    """Allows ``hosts`` (default: api.test) over http on the server's port, resolving them
    to 127.0.0.1, which the policy names explicitly."""
    policy = EgressPolicy().with_address("127.0.0.1")
    for host in hosts or (API,):
        policy = policy.with_host(host, ports=[server.port], schemes=["http"])
    return policy.with_resolver(resolver or Resolver({h: ["127.0.0.1"] for h in hosts or (API,)}))


def tls_policy(
    server: LocalServer, *hosts: str, resolver: Resolver | None = None, ca: str | None = CA_PEM
) -> EgressPolicy:
    policy = EgressPolicy().with_address("127.0.0.1").with_ca(ca)
    for host in hosts or (TLS_HOST,):
        policy = policy.with_host(host, ports=[server.port], schemes=["https"])
    return policy.with_resolver(resolver or Resolver({h: ["127.0.0.1"] for h in hosts or (TLS_HOST,)}))


def run_tool(
    pool,
    source: str,
    *,
    egress: EgressPolicy | None,
    tenant: str = "t1",
    args=None,
    secrets=None,
    deadline_ms=None,
    function: str = "tool",
):
    request = CallRequest(
        tenant=tenant,
        bundle=compile_bundle({"tool.py": source}),
        function=function,
        input=validate_input(args=args),
        secrets=secrets or {},
        deadline=requested_deadline(deadline_ms),
        egress=egress,
    )
    return pool.execute(request)


def http_lines(result) -> list[str]:
    """The supervisor's log lines for the call's requests."""
    return [r["message"] for r in result.logs if r["message"].startswith("http ")]
