"""How a client reaches a fleet of replicas: round_robin over every address a name
resolves to, gRPC health checks so a draining replica leaves the rotation, keepalives
that notice a vanished node, and a short reconnect back-off for replicas that restart.
``channel_options`` lets a caller override any of these, key by key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from worker._proto.toolpool.v1 import toolpool_pb2 as pb

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ToolPool"].full_name

SERVICE_CONFIG = {
    "loadBalancingConfig": [{"round_robin": {}}],
    # Subchannels whose replica reports NOT_SERVING (draining) are taken out of the rotation.
    "healthCheckConfig": {"serviceName": SERVICE_NAME},
}


def default_channel_options() -> list[tuple[str, Any]]:
    """Channel options for a fleet of replicas: round_robin, health checks, keepalive."""
    return [
        ("grpc.service_config", json.dumps(SERVICE_CONFIG)),
        # Notice a replica that vanished without closing its connections (a node lost).
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
        # A restarted replica is back within seconds; the default back-off grows to 120 s.
        ("grpc.initial_reconnect_backoff_ms", 250),
        ("grpc.min_reconnect_backoff_ms", 250),
        ("grpc.max_reconnect_backoff_ms", 5_000),
        # Re-resolve a headless Service's name soon after a replica goes away.
        ("grpc.dns_min_time_between_resolutions_ms", 5_000),
    ]


def channel_options(options: Sequence[tuple[str, Any]] = ()) -> list[tuple[str, Any]]:
    """The defaults with the caller's options taking precedence, key by key."""
    given = {key for key, _ in options}
    if "grpc.lb_policy_name" in given:  # the caller chose a policy: let it stand alone
        given.add("grpc.service_config")
    return [(k, v) for k, v in default_channel_options() if k not in given] + list(options)


def replicas_target(addresses: Sequence[str]) -> str:
    """A target naming several replicas, for round_robin: ``ipv4:a:p,b:p`` (or ``ipv6:``)."""
    if not addresses:
        raise ValueError("give at least one address")
    scheme = "ipv6" if all(a.startswith("[") for a in addresses) else "ipv4"
    return f"{scheme}:" + ",".join(addresses)
