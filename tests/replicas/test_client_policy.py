"""The client's balancing defaults and its did-it-start rules, without servers."""

from __future__ import annotations

import json

import grpc
import pytest

from worker.client import SERVICE_NAME, ToolpoolCallError, _may_have_run, _retry_delay, channel_options, replicas_target

pytestmark = pytest.mark.unit  # no server, whatever the directory says


def options_dict(options):
    return dict(options)


def test_round_robin_with_health_checks_by_default():
    config = json.loads(options_dict(channel_options())["grpc.service_config"])
    assert config["loadBalancingConfig"] == [{"round_robin": {}}]
    assert config["healthCheckConfig"] == {"serviceName": SERVICE_NAME}
    assert options_dict(channel_options())["grpc.max_reconnect_backoff_ms"] <= 5_000


def test_the_callers_options_win_key_by_key():
    mine = channel_options([("grpc.max_reconnect_backoff_ms", 100), ("grpc.primary_user_agent", "x")])
    assert options_dict(mine)["grpc.max_reconnect_backoff_ms"] == 100
    assert [k for k, _ in mine].count("grpc.max_reconnect_backoff_ms") == 1
    assert "grpc.service_config" in options_dict(mine)
    # Naming a policy replaces the default service config (which would override it).
    pick_first = options_dict(channel_options([("grpc.lb_policy_name", "pick_first")]))
    assert "grpc.service_config" not in pick_first


def test_replicas_target():
    assert replicas_target(["127.0.0.1:1", "127.0.0.1:2"]) == "ipv4:127.0.0.1:1,127.0.0.1:2"
    assert replicas_target(["[::1]:1", "[::1]:2"]) == "ipv6:[::1]:1,[::1]:2"
    with pytest.raises(ValueError):
        replicas_target([])


UNAVAILABLE = grpc.StatusCode.UNAVAILABLE
CASES = [
    # (code, reason, message, retried, may_have_run)
    (
        UNAVAILABLE,
        None,
        "connections to all backends failing; last error: UNKNOWN: ipv4:127.0.0.1:1: "
        "Failed to connect to remote host: Connection refused",
        True,
        False,
    ),
    (UNAVAILABLE, None, "failed to connect to all addresses; last error: ...", True, False),
    (UNAVAILABLE, "DRAINING", "server is draining; the call did not start", True, False),
    (UNAVAILABLE, "POOL_UNAVAILABLE", "no confined child became ready in time", True, False),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, "OVERLOADED", "queue full", True, False),
    (UNAVAILABLE, None, "Stream removed (Socket closed)", False, True),
    (UNAVAILABLE, None, "recvmsg:Connection reset by peer", False, True),
    (grpc.StatusCode.CANCELLED, None, "CANCELLED", False, True),
    (grpc.StatusCode.INTERNAL, "INTERNAL_FAILURE", "internal error (incident x)", False, True),
    (grpc.StatusCode.DEADLINE_EXCEEDED, None, "Deadline Exceeded", False, True),
]


@pytest.mark.parametrize("code, reason, message, retried, may_have_run", CASES)
def test_an_execute_is_retried_exactly_when_it_cannot_have_run(code, reason, message, retried, may_have_run):
    error = ToolpoolCallError(code, message, reason=reason, retry_after_ms=5 if reason == "OVERLOADED" else None)
    assert (_retry_delay(error, 1, idempotent=False) is not None) == retried
    assert _may_have_run(error) == may_have_run
