"""The Prometheus endpoint of a real replica: what it counts, and what it never labels."""

from __future__ import annotations

import urllib.request

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.harness import GLOBEX_TOKEN, deploy, execute, make_server
from worker._proto.toolpool.v1 import toolpool_pb2 as pb
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc
from worker.metrics import LATENCY_BUCKETS, OTHER_TENANT, Metrics, TenantLabels


@pytest.fixture(scope="module")
def replica(tmp_path_factory):
    # max_tenants 1: acme keeps its name, globex is counted as _other.
    server = make_server(tmp_path_factory.mktemp("metrics"), metrics={"enabled": True, "port": 0, "max_tenants": 1})
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield server, pb_grpc.ToolPoolStub(channel)
    finally:
        channel.close()
        server.stop(grace_s=5)


def scrape(server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body = urllib.request.urlopen(f"http://127.0.0.1:{server.metrics_port}/metrics", timeout=10).read().decode()
    samples = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.system  # servers
def test_calls_latency_kills_caches_and_refusals(replica):
    server, stub = replica
    version = deploy(stub, "acme").deployed.version_id
    deploy(stub, "globex")
    before = scrape(server)
    assert execute(stub, "acme", "start_function", version_id=version).result.status == pb.OK
    assert execute(stub, "acme", "start_function", version_id=version).result.status == pb.OK
    assert execute(stub, "acme", "boom", version_id=version).result.status == pb.RUNTIME_ERROR
    assert execute(stub, "acme", "spin", version_id=version, deadline_ms=200).result.status == pb.TIMEOUT
    assert execute(stub, "globex", "start_function", version_id=version).result.status == pb.OK
    with pytest.raises(grpc.RpcError):
        execute(stub, "acme", "no_such_function", version_id=version)
    after = scrape(server)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("toolpool_calls_total", tenant="acme", kind="start_function", status="ok") == 2
    assert delta("toolpool_calls_total", tenant="acme", kind="other", status="runtime_error") == 1
    assert delta("toolpool_calls_total", tenant="acme", kind="other", status="timeout") == 1
    assert delta("toolpool_calls_total", tenant=OTHER_TENANT, kind="start_function", status="ok") == 1
    assert delta("toolpool_call_refusals_total", tenant="acme", reason="FUNCTION_NOT_FOUND") == 1
    assert delta("toolpool_sandbox_kills_total", reason="deadline") == 1
    assert delta("toolpool_rpcs_total", method="Execute", code="OK") == 5
    assert delta("toolpool_rpcs_total", method="Execute", code="NOT_FOUND") == 1
    # Latency: three start_function calls, in buckets that resolve the 1 s deadline.
    assert delta("toolpool_call_duration_seconds_count", kind="start_function") == 3
    assert delta("toolpool_call_duration_seconds_bucket", kind="start_function", le="1.0") == 3
    assert delta("toolpool_call_queue_seconds_count", kind="other") == 2
    # Gauges and cache counters are read at scrape time.
    assert value(after, "toolpool_pool_ready_children") >= 0
    assert value(after, "toolpool_pool_in_flight") == 0
    assert value(after, "toolpool_admission_queued") == 0
    assert delta("toolpool_compiles_total", outcome="compiled") == 0  # both compiled when deployed
    assert value(after, "toolpool_compiles_total", outcome="compiled") == 2
    assert value(after, "toolpool_compile_running") == 0 and value(after, "toolpool_compile_waiting") == 0
    assert delta("toolpool_cache_hits_total", cache="bundles") >= 4
    for cache in ("bundles", "rows", "egress"):
        assert (
            0
            <= value(after, "toolpool_cache_bytes", cache=cache)
            <= value(after, "toolpool_cache_max_bytes", cache=cache)
        )
    assert value(after, "toolpool_cache_bytes", cache="bundles") > 0
    assert (
        sum(value(after, "toolpool_cache_max_bytes", cache=c) for c in ("bundles", "rows", "egress"))
        == server.config.cache_bytes
    )
    assert value(after, "toolpool_draining") == 0
    assert value(after, "process_open_fds") > 0


@pytest.mark.system  # servers
def test_unauthenticated_tenants_never_become_labels(replica):
    server, stub = replica
    with pytest.raises(grpc.RpcError):
        execute(stub, "mallory-0123", "start_function", version_id="x", token="wrong-token")
    with pytest.raises(grpc.RpcError):  # authenticated, but not allowed this tenant
        execute(stub, "acme", "start_function", version_id="x", token=GLOBEX_TOKEN)
    samples = scrape(server)
    tenants = {dict(labels).get("tenant") for _, labels in samples} - {None}
    assert "mallory-0123" not in tenants
    assert tenants <= {"acme", OTHER_TENANT}
    assert value(samples, "toolpool_rpcs_total", method="Execute", code="UNAUTHENTICATED") >= 1
    assert value(samples, "toolpool_rpcs_total", method="Execute", code="PERMISSION_DENIED") >= 1


def test_tenant_labels_are_bounded():
    labels = TenantLabels(2)
    assert [labels.label(t) for t in ("a", "b", "c", "a", "d")] == ["a", "b", OTHER_TENANT, "a", OTHER_TENANT]
    assert TenantLabels(0).label("a") == OTHER_TENANT


def test_buckets_resolve_the_start_function_deadline():
    assert 1.0 in LATENCY_BUCKETS and 5.0 in LATENCY_BUCKETS
    assert sum(1 for b in LATENCY_BUCKETS if b <= 1.0) >= 12  # dense where greetings live
    assert list(LATENCY_BUCKETS) == sorted(LATENCY_BUCKETS)


@pytest.mark.system  # servers
def test_metrics_are_off_by_default_and_registries_are_per_replica(tmp_path):
    server = make_server(tmp_path)
    assert server.config.metrics_enabled is False
    assert Metrics().registry is not Metrics().registry
    server.start()
    try:
        assert server.metrics_port is None
        stub = pb_grpc.ToolPoolStub(grpc.insecure_channel(f"127.0.0.1:{server.port}"))
        version = deploy(stub, "acme").deployed.version_id
        execute(stub, "acme", "start_function", version_id=version)
        # Still counted (cheap), just not served.
        assert (
            server.metrics.registry.get_sample_value(
                "toolpool_calls_total", {"tenant": "acme", "kind": "start_function", "status": "ok"}
            )
            == 1
        )
    finally:
        server.stop(grace_s=5)
