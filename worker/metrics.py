"""Prometheus metrics for one replica, and the HTTP endpoint that serves them.

Every replica has its own ``CollectorRegistry`` (never the process-global one), so two
servers in one process (the tests) do not collide. Nothing here blocks a call: counters
are updated in place, and the gauges of the pool, admission and caches are read only
when Prometheus scrapes (``ReplicaCollector``).

Exported series (all prefixed ``toolpool_``)::

    calls_total{tenant,kind,status}        counter    Execute calls that ran, by the tool's status
    call_refusals_total{tenant,reason}     counter    Execute calls answered with an RPC error
                                                      after authorization (OVERLOADED, TENANT_LIMIT,
                                                      DRAINING, DEADLINE_TOO_SHORT, VERSION_NOT_FOUND...)
    call_duration_seconds{kind}            histogram  request received -> verdict (queue included)
    call_queue_seconds{kind}               histogram  request received -> admitted to run
    rpcs_total{method,code}                counter    every RPC by gRPC status code
    admission_running, admission_queued    gauge      calls holding a slot / waiting for one
    admission_decisions_total{decision}    counter    admitted_now, admitted_after_wait, refused_*
    pool_ready_children, pool_in_flight,   gauge      confined children waiting for a call,
    pool_live_children, pool_spawning                 calls in the sandbox, children alive, forks asked
    sandbox_kills_total{reason}            counter    children the supervisor SIGKILLed: deadline, overrun
    sandbox_child_deaths_total{cause}      counter    children that died in a call (from the pool's
                                                      count_death_<cause> counters, when it has them)
    pool_events_total{event}               counter    the pool's other counters (template_restarts,
                                                      ready_child_died, acquire_timeouts, ...)
    compile_running, compile_waiting       gauge      confined compiles running / waiting for a slot
    compiles_total{outcome}                counter    compiled, refused_tenant, refused_full, refused_waited
    cache_bytes{cache}, cache_max_bytes{cache}, cache_entries{cache}, cache_tenants{cache}
                                           gauge      each server-side cache (bundles, rows, egress)
    cache_hits_total{cache}, cache_misses_total{cache}, cache_evictions_total{cache}  counter
    store_up                               gauge      1 while the store's database answers, 0 while it is away
    draining                               gauge      1 once SIGTERM was received
    plus the standard process_* series of the server process (not of its children).

``kind`` is ``start_function`` or ``other``: the two deadline classes (1,000 ms and
5,000 ms). Function names are tenant-chosen and unbounded, so they are never a label.

Tenant label cardinality. Tenant names are chosen by the platform and unbounded; a
series per tenant per status is what an operator wants for the tenants that matter and
a hazard for a platform with 100,000 of them. So:

* only *authorized* tenants are ever labels (an unauthenticated caller cannot mint
  series by sending random tenant names);
* the first ``metrics.max_tenants`` distinct tenants a replica sees keep their name; any
  later one is counted under ``tenant="_other"``. Worst case per replica:
  ``max_tenants x 2 kinds x 10 statuses`` call series plus ``max_tenants x ~8 reasons``
  refusal series; the latency histograms carry no tenant label at all (that would
  multiply by the bucket count);
* ``max_tenants = 0`` turns the tenant label off (every call is ``_other``).
Which tenants fill the budget is per replica and resets on restart: a dashboard summing
``by (tenant)`` across replicas is exact only while the fleet has at most
``max_tenants`` tenants; size it above that (the default, 100, suits a platform of
tens of tenants per replica), or use the ``_other`` share as the signal to raise it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import start_http_server
from prometheus_client.registry import Collector

OTHER_TENANT = "_other"
START_FUNCTION = "start_function"

# Seconds. Dense up to the 1,000 ms start_function deadline, where a greeting's latency
# matters and where the deadline kill lands (a call killed at its deadline reports just
# over 1 s: the 1.25 bucket); sparse up to the 5,000 ms cap of other tools.
LATENCY_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.15,
    0.2,
    0.3,
    0.4,
    0.5,
    0.6,
    0.75,
    0.9,
    1.0,
    1.25,
    2.0,
    3.0,
    5.0,
    7.5,
)
QUEUE_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def kind_of(function: str) -> str:
    return START_FUNCTION if function == START_FUNCTION else "other"


class TenantLabels:
    """Maps tenant names to label values, keeping at most ``limit`` distinct names."""

    def __init__(self, limit: int):
        self._limit = limit
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def label(self, tenant: str) -> str:
        if tenant in self._known:  # set membership is safe without the lock
            return tenant
        with self._lock:
            if tenant in self._known:
                return tenant
            if len(self._known) < self._limit:
                self._known.add(tenant)
                return tenant
        return OTHER_TENANT


class Metrics:
    """The replica's instruments. Methods are cheap and thread-safe; call them inline."""

    def __init__(self, *, max_tenants: int = 100, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        self.tenants = TenantLabels(max_tenants)
        r = self.registry
        self.calls = Counter(
            "toolpool_calls", "Execute calls that ran, by the tool's status.", ("tenant", "kind", "status"), registry=r
        )
        self.refusals = Counter(
            "toolpool_call_refusals",
            "Execute calls of an authorized tenant answered with an RPC error, by reason.",
            ("tenant", "reason"),
            registry=r,
        )
        self.duration = Histogram(
            "toolpool_call_duration_seconds",
            "Execute: request received to verdict, queueing included.",
            ("kind",),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.queue = Histogram(
            "toolpool_call_queue_seconds",
            "Execute: request received to admitted.",
            ("kind",),
            buckets=QUEUE_BUCKETS,
            registry=r,
        )
        self.rpcs = Counter("toolpool_rpcs", "RPCs by method and gRPC status code.", ("method", "code"), registry=r)

    def call_finished(self, tenant: str, function: str, status: str, *, queue_s: float, total_s: float) -> None:
        kind = kind_of(function)
        self.calls.labels(self.tenants.label(tenant), kind, status).inc()
        self.queue.labels(kind).observe(max(queue_s, 0.0))
        self.duration.labels(kind).observe(max(total_s, 0.0))

    def call_refused(self, tenant: str, reason: str) -> None:
        self.refusals.labels(self.tenants.label(tenant), reason).inc()

    def rpc_finished(self, method: str, code: str) -> None:
        self.rpcs.labels(method, code).inc()

    def watch(self, sources: ReplicaSources) -> None:
        """Reads the pool, admission and caches at every scrape, from now on."""
        self.registry.register(ReplicaCollector(sources))
        ProcessCollector(registry=self.registry)


@dataclass(frozen=True)
class ReplicaSources:
    """Where the scrape-time figures come from; each returns a fresh snapshot."""

    pool_stats: Callable[[], Mapping[str, Any]]
    admission_stats: Callable[[], Mapping[str, Any]]
    compiles: Callable[[], Mapping[str, int]]  # worker.compiles.CompileGate.info
    caches: Callable[[], Mapping[str, Mapping[str, int]]]  # ToolService.cache_info: name -> info
    store_up: Callable[[], bool]
    draining: Callable[[], bool]


_POOL_GAUGES = (
    ("ready_children", "Confined children forked ahead of demand, waiting for a call."),
    ("in_flight", "Calls running in the sandbox now."),
    ("live_children", "Children alive (ready, running or idle in reuse mode)."),
    ("spawning", "Children asked of the template and not yet ready."),
    ("idle_reuse_children", "Reuse mode: warm children waiting for their key's next call."),
)
_ADMISSION_DECISIONS = (
    "admitted_now",
    "admitted_after_wait",
    "refused_full",
    "refused_estimate",
    "refused_waited",
    "refused_draining",
)


class ReplicaCollector(Collector):
    """Gauges and counters owned by other components, read at scrape time."""

    def __init__(self, sources: ReplicaSources):
        self._sources = sources

    def collect(self) -> Iterable[Any]:
        yield from self._pool(self._sources.pool_stats())
        yield from self._admission(self._sources.admission_stats())
        yield from self._compiles()
        yield from self._caches()
        yield GaugeMetricFamily(
            "toolpool_store_up",
            "1 while the store's database answers; 0 while it is away "
            "(Execute then serves from the replica's caches, writes fail).",
            value=1.0 if self._sources.store_up() else 0.0,
        )
        yield GaugeMetricFamily(
            "toolpool_draining",
            "1 once the replica began draining (SIGTERM).",
            value=1.0 if self._sources.draining() else 0.0,
        )

    def _pool(self, stats: Mapping[str, Any]) -> Iterable[Any]:
        for key, help_text in _POOL_GAUGES:
            if key in stats:
                yield GaugeMetricFamily(f"toolpool_pool_{key}", help_text, value=float(stats[key]))
        kills = CounterMetricFamily(
            "toolpool_sandbox_kills", "Children the supervisor SIGKILLed, by reason.", labels=("reason",)
        )
        events = CounterMetricFamily("toolpool_pool_events", "The sandbox pool's other counters.", labels=("event",))
        for reason in ("deadline", "overrun"):  # always present, so rate() has a zero to start from
            kills.add_metric((reason,), float(stats.get(f"count_kill_{reason}", 0)))
        deaths = CounterMetricFamily(
            "toolpool_sandbox_child_deaths", "Children that died during a call, by cause.", labels=("cause",)
        )
        for key, value in sorted(stats.items()):
            if not key.startswith("count_"):
                continue
            name = key[len("count_") :]
            if name.startswith("kill_"):
                if name[len("kill_") :] not in ("deadline", "overrun"):
                    kills.add_metric((name[len("kill_") :],), float(value))
            elif name.startswith("death_"):  # once the pool counts them (count_death_<cause>)
                deaths.add_metric((name[len("death_") :],), float(value))
            elif not name.startswith("status_"):  # statuses are toolpool_calls_total
                events.add_metric((name,), float(value))
        yield kills
        yield deaths
        yield events

    def _admission(self, stats: Mapping[str, Any]) -> Iterable[Any]:
        yield GaugeMetricFamily(
            "toolpool_admission_running", "Calls holding an admission slot.", value=float(stats.get("running", 0))
        )
        yield GaugeMetricFamily(
            "toolpool_admission_queued",
            "Calls waiting for an admission slot (queue depth).",
            value=float(stats.get("queued", 0)),
        )
        decisions = CounterMetricFamily("toolpool_admission_decisions", "Admission decisions.", labels=("decision",))
        for name in _ADMISSION_DECISIONS:
            decisions.add_metric((name,), float(stats.get(name, 0)))
        yield decisions

    def _compiles(self) -> Iterable[Any]:
        stats = self._sources.compiles()
        yield GaugeMetricFamily(
            "toolpool_compile_running", "Confined compiles running now.", value=float(stats.get("running", 0))
        )
        yield GaugeMetricFamily(
            "toolpool_compile_waiting", "Compiles waiting for a slot.", value=float(stats.get("waiting", 0))
        )
        outcomes = CounterMetricFamily("toolpool_compiles", "Compile requests by outcome.", labels=("outcome",))
        for name in _COMPILE_OUTCOMES:
            outcomes.add_metric((name,), float(stats.get(name, 0)))
        yield outcomes

    def _caches(self) -> Iterable[Any]:
        families = {
            key: (GaugeMetricFamily if kind == "gauge" else CounterMetricFamily)(
                f"toolpool_cache_{name}", help_text, labels=("cache",)
            )
            for key, name, kind, help_text in _CACHE_SERIES
        }
        for cache, info in sorted(self._sources.caches().items()):
            for key, family in families.items():
                family.add_metric((cache,), float(info.get(key, 0)))
        yield from families.values()


_COMPILE_OUTCOMES = ("compiled", "refused_tenant", "refused_full", "refused_waited")
_CACHE_SERIES = (
    ("bytes", "bytes", "gauge", "Bytes a server-side cache holds (worker/catalog.py's estimate)."),
    ("max_bytes", "max_bytes", "gauge", "A cache's budget in bytes (its share of cache.bytes)."),
    ("entries", "entries", "gauge", "Entries in a cache."),
    ("tenants", "tenants", "gauge", "Tenants with an entry in a cache."),
    ("hits", "hits", "counter", "Lookups a cache answered."),
    ("misses", "misses", "counter", "Lookups a cache could not answer."),
    ("evictions", "evictions", "counter", "Entries evicted to stay within the budget."),
)


class MetricsEndpoint:
    """The HTTP endpoint (``GET /metrics``) on its own port, in a daemon thread."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int):
        self._httpd, self._thread = start_http_server(port, addr=host, registry=registry)
        self.port: int = self._httpd.server_address[1]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
