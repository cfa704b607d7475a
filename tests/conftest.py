"""Shared fixtures: a real pool of confined children, and helpers to run source through it.

Also where every test gets its marker, ``unit`` or ``system`` (and ``serial`` for some
system tests); the README's "Testing" section says what each means and how ``./dev.sh
test`` runs them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sandbox.compile.compiler import compile_bundle
from sandbox.supervisor.call import CallRequest, requested_deadline, validate_input
from sandbox.supervisor.pool import Pool, PoolConfig

pytest_plugins = ["tests.customers.summary"]  # the corpus's section at the end of a run, xdist or not


@pytest.fixture(scope="session")
def pool():
    """One confined fresh-mode pool for the session. Confinement failures fail, never skip."""
    with Pool(PoolConfig(ready_children=2)) as p:
        yield p


def run_source(
    pool: Pool,
    source: str,
    function: str = "tool",
    *,
    conversation=None,
    args=None,
    deadline_ms=None,
    policy=None,
    tenant="t1",
    filename="tool.py",
    secrets=None,
):
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


# -- markers: unit, system, serial ------------------------------------------------------------------
#
# A *unit* test runs in the test process alone: no server, no PostgreSQL, no pool, no confined
# child, no subprocess (compiler, guards in-process, policy, normalize, protocol, plaindata,
# configuration, catalog, CLI parsing, client rules...). Every other test is *system*. A
# *serial* test is a system test that must have the machine to itself (it measures RSS or
# timings, or loads the machine): ./dev.sh test runs those after the others, one at a time.
#
# The rule below marks each collected test; a test, class or module that says ``unit`` or
# ``system`` itself overrides it (a module that says ``system`` is system throughout: ``-m``
# sees every mark of a test, so a test can never be both). Tests that start processes without
# one of these fixtures (``toolpool run`` in a subprocess, a harness in a confined child...)
# say ``system`` themselves, and the process guard below fails a unit test that starts one.

SYSTEM_DIRS = {"cli", "faults", "fuzz", "integration", "replicas", "soak"}  # tests/<dir>/: servers, subprocesses
SERIAL_DIRS = {"soak"}  # load and kills, with an RSS bound
SYSTEM_FIXTURES = {
    "pool",  # the session's confined pool (above)
    "postgres_server",
    "postgres_url",  # the session's PostgreSQL (above)
    "canned",  # tests/customers: the canned HTTP server
    "server",
    "tls_server",  # tests/egress: HTTP servers on loopback (and others' servers of that name)
    "running",  # tests/integration: an in-process server with its pool
    "live",  # tests/faults: the same
    "target",  # tests/fuzz: a server subprocess
}
TESTS = Path(__file__).parent


def _marks(item: pytest.Item) -> set[str]:
    """Which of unit, system and serial the test says, or the rule gives it."""
    said = {mark.name for mark in item.iter_markers()} & {"unit", "system", "serial"}
    if {"unit", "system"} <= said or {"unit", "serial"} <= said:
        raise pytest.UsageError(
            f"{item.nodeid} is marked {' and '.join(sorted(said))}: a unit test is never system or serial"
        )
    directory = item.path.relative_to(TESTS).parts[:-1][:1]
    if directory and directory[0] in SERIAL_DIRS and "unit" not in said:
        said.add("serial")
    if "serial" in said:
        said.add("system")
    if said & {"unit", "system"}:
        return said
    callspec = getattr(item, "callspec", None)
    if (
        (directory and directory[0] in SYSTEM_DIRS)
        or SYSTEM_FIXTURES & set(item.fixturenames)  # the fixture closure: indirect uses count
        or (callspec is not None and callspec.params.get("backend") == "postgresql")
    ):  # tests/store
        return said | {"system"}
    return said | {"unit"}


@pytest.hookimpl(tryfirst=True)  # before -m selects by these markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for name in sorted(_marks(item)):
            if item.get_closest_marker(name) is None:
                item.add_marker(name)


# The process guard: a unit test that starts a process fails, saying so, instead of quietly
# making the unit pass slow. An audit hook sees every way Python starts one (subprocess, fork,
# posix_spawn, system, exec); it cannot be removed, so it does nothing outside a unit test's call.
_PROCESS_EVENTS = {"subprocess.Popen", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.system", "os.exec"}
_in_unit_test: list[str] = []


def _process_guard(event: str, args: tuple) -> None:
    if _in_unit_test and event in _PROCESS_EVENTS:
        raise RuntimeError(
            f"a unit test started a process ({event}): mark {_in_unit_test[0]} @pytest.mark.system (tests/conftest.py)"
        )


sys.addaudithook(_process_guard)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    # The call only: a session fixture's teardown (PostgreSQL's pg_ctl) may run after a unit test.
    if item.get_closest_marker("unit") is not None:
        _in_unit_test.append(item.nodeid)
    try:
        yield
    finally:
        _in_unit_test.clear()
