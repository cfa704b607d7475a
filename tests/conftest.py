"""Shared fixtures: a real pool of confined children, and helpers to run source through it."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.compile.compiler import compile_bundle
from sandbox.supervisor.call import CallRequest, requested_deadline, validate_input
from sandbox.supervisor.pool import Pool, PoolConfig


@pytest.fixture(scope="session")
def pool():
    """One confined fresh-mode pool for the session. Confinement failures fail, never skip."""
    with Pool(PoolConfig(ready_children=2)) as p:
        yield p


def run_source(pool: Pool, source: str, function: str = "tool", *, conversation=None, args=None,
               deadline_ms=None, policy=None, tenant="t1", filename="tool.py", secrets=None):
    bundle = compile_bundle({filename: source})
    kwargs = {}
    if policy is not None:
        kwargs["policy"] = policy
    request = CallRequest(
        tenant=tenant,
        bundle=bundle,
        function=function,
        input=validate_input(conversation, args),
        secrets=secrets or {},
        deadline=requested_deadline(deadline_ms),
        **kwargs,
    )
    return pool.execute(request)


SEEDS = Path(__file__).parent / "seeds"


def seed_source(name: str) -> str:
    """One example of the platform's pages, verbatim, from tests/seeds/."""
    return (SEEDS / name).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL server for the session (tests/pg.py), started on first use."""
    from tests.pg import PostgresServer

    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture()
def postgres_url(postgres_server) -> str:
    """A fresh, empty database on the session's server."""
    return postgres_server.create_database()
