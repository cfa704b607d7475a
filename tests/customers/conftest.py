"""Fixtures of the customer corpus (its summary at the end of a run is ``summary.py``)."""

from __future__ import annotations

import pytest

from tests.customers.corpus import all_routes
from tests.customers.server import CannedServer


@pytest.fixture(scope="session")
def canned():
    """The canned HTTP server every case's API calls reach, in both runs."""
    server = CannedServer(all_routes()).start()
    yield server
    server.stop()
