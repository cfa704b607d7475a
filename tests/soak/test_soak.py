"""The bounded soak in the test suite: TOOLPOOL_SOAK_SECONDS of sustained mixed load (default 30).

The load, the audit and the RSS bound are described in tests/soak/run.py; run it longer
by hand with ``python -m tests.soak.run --seconds 600``.
"""

from __future__ import annotations

import os

import pytest

from tests.soak.run import run_soak

SECONDS = float(os.environ.get("TOOLPOOL_SOAK_SECONDS", "30"))


@pytest.mark.timeout(int(SECONDS * 2 + 120))
def test_sustained_load_of_good_and_hostile_tools_across_tenants(tmp_path):
    report = run_soak(SECONDS, workdir=tmp_path)
    print("\n" + report.as_json())
    assert not report.violations, "\n".join(report.violations)
    assert report.sent == report.answered == sum(report.verdicts.values()) + sum(report.refusals.values())
    assert report.verdicts.get("ok") and len(report.verdicts) >= 6, "the mix was not the mix"
