"""What the pool checks before it serves, through the subprocess harness of
tests/test_confine.py: in the full production configuration every probe of the start-up
self-test (sandbox/child/probes.py) is blocked, a layer switched off shows in the probes'
results, a host without a kernel feature is named rather than papered over, and a
disabled confinement is loud. These tests never skip.
"""

from __future__ import annotations

import pytest

from sandbox.confine.selftest import check_probe_results
from sandbox.errors import ConfinementUnavailable
from tests.test_confine import IS_ROOT, NO_SECCOMP, NOBODY, REPO, confined, run_scenario, unprivileged_user

pytestmark = pytest.mark.system  # the harness runs in confined children

# ---------------------------------------------------------------------------------------
# The full configuration: every probe of the start-up self-test is blocked.
# ---------------------------------------------------------------------------------------

PROBES = f"""
from sandbox.child.probes import run_probes
def attack(ctx):
    return run_probes(keep_fds=[ctx["channel"]], tmp_bytes=ctx["tmp_bytes"],
                      extra_paths=[{str(REPO)!r}, "/root", "/work"])
"""


def test_all_probes_blocked_privileged():
    if not IS_ROOT:
        pytest.fail("the privileged path needs a root template; run this suite as root (CI does)")
    report = confined(PROBES)
    assert report["mode"] == "privileged"
    check_probe_results(report["result"])


def test_all_probes_blocked_in_a_user_namespace():
    report = confined(PROBES, as_user=unprivileged_user())
    assert report["mode"] == "user-namespace"
    check_probe_results(report["result"])


def test_probes_are_harmless_when_nothing_confines_them():
    """The supervisor runs the self-test in --insecure-no-confinement mode too, as root on
    the host: an allowed probe must leave no mount, no file and no lost process behind."""
    report = confined(
        """
        from sandbox.child.probes import run_probes
        def snapshot():
            with open("/proc/self/mountinfo") as f:
                mounts = sorted(line.split()[4] for line in f)
            return {"mounts": mounts, "root": sorted(os.listdir("/")), "tmp": sorted(os.listdir("/tmp"))}
        def attack(ctx):
            before = snapshot()
            results = run_probes(keep_fds=[ctx["channel"]])
            return {"before": before, "after": snapshot(), "results": results}
    """,
        config={"enabled": False},
        private_mounts=True,
    )
    result = report["result"]
    assert result["after"] == result["before"]
    allowed = {k for k, v in result["results"].items() if v.startswith("ALLOWED")}
    if IS_ROOT:
        assert {"sys.mount", "proc.execve", "proc.fork", "net.socket_inet"} <= allowed, result["results"]


def test_probes_report_what_a_disabled_layer_lets_through():
    report = confined(PROBES, config=NO_SECCOMP)
    results = report["result"]
    assert results["prctl.seccomp_filter"].startswith("ALLOWED")
    assert results["net.socket_inet"].startswith("ALLOWED")
    assert any("TEST ONLY" in w for w in report["warnings"])
    with pytest.raises(ConfinementUnavailable):
        check_probe_results(results)


# ---------------------------------------------------------------------------------------
# A host without a feature is named, not papered over.
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "deny, as_user, feature",
    [
        ("unshare", None, "mount namespaces"),
        ("newnet", None, "network namespaces"),
        ("unshare", NOBODY, "user namespaces"),
    ],
)
def test_missing_kernel_feature_is_named(deny, as_user, feature):
    if as_user is None and not IS_ROOT:
        feature = "user namespaces"  # unprivileged, the user namespace comes first
    report = run_scenario("def attack(ctx):\n    return None\n", deny=deny, as_user=as_user if IS_ROOT else None)
    assert report["prepare"] != "ok", f"prepare_template succeeded although {deny} was refused"
    assert report["prepare"]["feature"] == feature, report["prepare"]


def test_disabled_confinement_is_loud_and_only_closes_fds_and_sets_rlimits():
    report = confined(
        """
        def attack(ctx):
            return {"open": [fd for fd in range(1024) if outcome(os.fstat, fd) == "ok"],
                    "channel": ctx["channel"],
                    "as": resource.getrlimit(resource.RLIMIT_AS),
                    "passwd": outcome(open, "/etc/passwd")}
    """,
        config={"enabled": False},
        limits={"memory_bytes": 512 << 20},
    )
    assert report["mode"] == "disabled"
    assert any("INSECURE" in w for w in report["warnings"]), report["warnings"]
    result = report["result"]
    assert result["open"] == [result["channel"]]
    assert result["as"] == [512 << 20, 512 << 20]
    assert result["passwd"] == "ok"  # no filesystem confinement at all: that is the point
