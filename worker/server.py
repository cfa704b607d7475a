"""The gRPC server: start-up order, health, reflection, and graceful shutdown.

Start-up, in this order:
  0. a probe of the listening address (``check_can_listen``), so that a busy port or an
     address this host does not have is a ``ListenError`` within a second, naming what
     to change, rather than a gRPC failure after the pool and the store have started;
  1. the sandbox pool (its template process and the confinement self-test): before any
     gRPC thread exists, as gRPC's multiprocessing example explains (gRPC does not
     survive fork() in a process whose server threads are running); a host that cannot
     confine refuses to serve (ConfinementUnavailable);
  2. the store (``store.url``: SQLite, or PostgreSQL with its pool and listener threads,
     which start after the fork for the same reason), migrated and its secrets keys
     checked (a problem is a ``StoreStartupError`` naming the setting); admission; the
     service;
  3. the gRPC server with ToolPool, grpc.health.v1 (SERVING) and reflection;
  4. the Prometheus endpoint, when ``metrics.enabled`` (worker/metrics.py).

Shutdown (``stop``, e.g. on SIGTERM), in this order:
  1. health goes NOT_SERVING, so probes and balancers stop sending;
  2. the service drains: new calls and queued calls get UNAVAILABLE (reason DRAINING,
     they did not start: a client may retry them elsewhere);
  3. calls in flight get up to ``drain.grace_s`` to finish;
  4. the pool is closed: its children are killed (a call still running then gets a
     verdict, never silence) and its template stops: no process is orphaned;
  5. the gRPC server stops, letting the last responses go out; the store closes; the
     metrics endpoint closes last, so a scrape during the drain still sees it.
A stop that runs ``STOP_SLACK_S`` past the grace writes every thread's stack to stderr
and exits 1 (``serve_forever``): a hang in shutdown is a bug to be seen, not a pod stuck
until the kubelet's SIGKILL.

Signal handlers only set an event; the main loop does the work (``serve_forever``), which
also sets up the process's logging (JSON lines, see worker/observability.py). An embedded
``ToolpoolServer`` leaves the host application's logging configuration alone.
"""

from __future__ import annotations

import ctypes
import errno
import faulthandler
import json
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from concurrent import futures
from typing import TYPE_CHECKING, Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from worker import observability, translate
from worker._proto.toolpool.v1 import toolpool_pb2 as pb
from worker.admission import Admission, AdmissionLimits
from worker.auth import Authenticator
from worker.catalog import Budget
from worker.compiles import CompileLimits
from worker.config import Config, ConfigError
from worker.errors import InvalidArgument
from worker.metrics import Metrics, MetricsEndpoint, ReplicaSources
from worker.pools import start_pool
from worker.service import Timing, ToolService
from worker.servicer import ToolPoolServicer
from worker.store import Store, open_store

if TYPE_CHECKING:
    from sandbox.supervisor.pool import Pool, PoolConfig

log = logging.getLogger("toolpool.server")

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ToolPool"].full_name
_CONTROL_THREADS = 16  # threads beyond admission's slots + queue: deploys, secrets, refusals
# Every client channel keeps one grpc.health.v1 Watch stream open per replica (client-side
# health checks, worker/client.py). Those hold no thread but count as concurrent RPCs.
_HEALTH_WATCHERS = 4096


def pool_config(config: Config) -> PoolConfig:
    from sandbox.confine.config import ConfinementConfig
    from sandbox.supervisor.pool import PoolConfig

    return PoolConfig(
        mode=config.pool_mode,
        ready_children=config.pool_ready_children,
        reuse_max_calls=config.pool_reuse_max_calls,
        confinement=ConfinementConfig(enabled=not config.pool_insecure_no_confinement),
        cgroups=config.cgroup_config(),
    )


def admission_limits(config: Config) -> AdmissionLimits:
    return AdmissionLimits(
        max_concurrent=config.admission_max_concurrent,
        tenant_concurrency=config.admission_tenant_concurrency,
        reserved_for_start=config.admission_reserved_for_start,
        max_queue=config.admission_max_queue,
        tenant_max_queue=config.admission_tenant_max_queue,
    )


class _PrestartedExecutor(futures.ThreadPoolExecutor):
    """A thread pool whose threads all start with the server.

    ThreadPoolExecutor starts a thread on demand inside submit(), and gRPC calls submit()
    from its one serving thread: when no thread can be created (the process table is
    full, a pids cgroup is at its limit) the RuntimeError kills that serving thread, and
    the server answers nothing more and cannot stop. With every thread started up front,
    submit() only queues.
    """

    def __init__(self, max_workers: int, thread_name_prefix: str = "") -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        for _ in range(max_workers):
            super()._adjust_thread_count()

    def _adjust_thread_count(self) -> None:
        pass  # all started in __init__


def _add_tool_pool(servicer: ToolPoolServicer, server: grpc.Server) -> None:
    """The generated registration, except that parsing a request cannot fail.

    grpc answers a request it cannot parse (invalid UTF-8 in a string, a truncated
    field) with INTERNAL, which the proto reserves for our bugs and which tells a client
    an Execute "may have run". It is the caller's mistake and nothing ran:
    INVALID_ARGUMENT, through the one translation table.
    """
    handlers = {}
    for method in pb.DESCRIPTOR.services_by_name["ToolPool"].methods:
        request_type = getattr(pb, method.input_type.name)
        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            _refusing_undecodable(getattr(servicer, method.name), request_type),
            request_deserializer=_lenient(request_type),
            response_serializer=getattr(pb, method.output_type.name).SerializeToString,
        )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE_NAME, handlers),))


class _Undecodable:
    def __init__(self, error: Exception):
        self.error = error


def _lenient(request_type: Any) -> Callable[[bytes], Any]:
    def parse(data: bytes) -> Any:
        try:
            return request_type.FromString(data)
        except Exception as exc:  # noqa: BLE001 - DecodeError, or whatever the runtime raises instead
            return _Undecodable(exc)

    return parse


def _refusing_undecodable(behavior: Callable[..., Any], request_type: Any) -> Callable[..., Any]:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        if isinstance(request, _Undecodable):
            error = InvalidArgument("request", f"not a valid {request_type.DESCRIPTOR.full_name} message")
            context.abort_with_status(translate.rpc_status(error)[0])
        return behavior(request, context)

    return handle


class ListenError(OSError):
    """The server cannot listen where it is configured to. The message says what to change."""


class PortInUse(ListenError):
    """Something already listens on the configured port."""


def check_can_listen(host: str, port: int) -> None:
    """Raise ``ListenError`` now if ``host:port`` cannot be bound (port 0 always can).

    Binds a throwaway socket the way gRPC will (SO_REUSEADDR, no SO_REUSEPORT: see
    ``_start_grpc``) to every address ``host`` names, and closes it. A race with another
    process between this probe and the real bind is still reported by ``_start_grpc``.
    """
    if port == 0:
        return
    try:
        addresses = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ListenError(
            f"cannot listen on {host}: {exc.strerror}; use --host with an address of this "
            "machine (127.0.0.1, or 0.0.0.0 for every interface)"
        ) from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise _listen_error(host, port, exc) from None


def _listen_error(host: str, port: int, exc: OSError) -> ListenError:
    if exc.errno == errno.EADDRINUSE:
        return PortInUse(f"port {port} is in use: is another `toolpool serve` running? Use --port")
    if exc.errno == errno.EADDRNOTAVAIL:
        return ListenError(
            f"cannot listen on {host}: it is not an address of this machine; use --host "
            "(127.0.0.1, or 0.0.0.0 for every interface)"
        )
    if exc.errno == errno.EACCES:
        return ListenError(f"port {port} needs privileges this process does not have; use --port 1024 or above")
    return ListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; use --host or --port")


class ToolpoolServer:
    """One replica. ``start()`` returns the bound port; ``stop()`` drains and cleans up."""

    def __init__(self, config: Config):
        self.config = config
        self.port: int | None = None
        self.pool: Pool | None = None
        self.store: Store | None = None
        self.admission: Admission | None = None
        self.service: ToolService | None = None
        self._server: grpc.Server | None = None
        self._health: health.HealthServicer | None = None
        self.metrics = Metrics(max_tenants=config.metrics_max_tenants)
        self.metrics_port: int | None = None
        self._metrics_endpoint: MetricsEndpoint | None = None
        self._stop_lock = threading.Lock()
        self._stopped = threading.Event()

    def start(self) -> int:
        from sandbox.supervisor.pool import Pool

        check_can_listen(self.config.host, self.config.port)  # before anything starts or is logged
        log.info("configuration: %s", json.dumps(self.config.describe(), sort_keys=True))
        if self.config.dev_token_generated:
            log.warning(
                "no clients configured: using the development token in %s (allowed every tenant)",
                self.config.token_file,
            )
        if self.config.pool_insecure_no_confinement:
            log.warning("INSECURE: pool.insecure_no_confinement is set; tools run unconfined (development only)")
        self.pool = Pool(pool_config(self.config))
        start_pool(self.pool)  # before any gRPC thread (module docstring); its template out of Ctrl-C (worker/pools.py)
        try:
            self.store = open_store(self.config)
            log.info(
                "store %s (schema migrated, secrets keys checked)", self.store.url, extra={"event": "store_opened"}
            )
            self.admission = Admission(admission_limits(self.config))
            self.service = ToolService(
                self.store,
                self.pool,
                self.admission,
                timing=Timing(margin_ms=self.config.deadline_margin_ms, min_run_ms=self.config.deadline_min_run_ms),
                metrics=self.metrics,
                cache_budget=Budget.of(self.config.cache_bytes),
                uploads=self.config.upload_limits(),
                compile_limits=CompileLimits(
                    concurrency=self.config.compile_concurrency,
                    per_tenant=self.config.compile_tenant_queue,
                    total=self.config.compile_max_queue,
                ),
            )
            self.metrics.watch(self._metric_sources(self.pool, self.store, self.admission, self.service))
            self.port = self._start_grpc(self.service)
            if self.config.metrics_enabled:
                self._start_metrics()
                self.service.protect_ports([self.port, self.metrics_port])
        except BaseException:
            if self._server is not None:
                self._server.stop(grace=None)
            if self.store is not None:
                self.store.close()
            self.pool.close()
            raise
        log.info(
            "serving %s on %s:%d",
            SERVICE_NAME,
            self.config.host,
            self.port,
            extra={"event": "serving", "port": self.port, "metrics_port": self.metrics_port},
        )
        return self.port

    def _metric_sources(self, pool: Pool, store: Store, admission: Admission, service: ToolService) -> ReplicaSources:
        return ReplicaSources(
            pool_stats=pool.stats,
            admission_stats=admission.stats,
            compiles=service.compile_info,
            caches=service.cache_info,
            store_up=store.is_up,
            draining=lambda: service.draining,
        )

    def _start_metrics(self) -> None:
        endpoint = MetricsEndpoint(self.metrics.registry, self.config.metrics_host, self.config.metrics_port)
        self._metrics_endpoint = endpoint
        self.metrics_port = endpoint.port
        log.info(
            "metrics on http://%s:%d/metrics",
            self.config.metrics_host,
            endpoint.port,
            extra={"event": "metrics_serving", "metrics_port": endpoint.port},
        )

    def _start_grpc(self, service: ToolService) -> int:
        config = self.config
        workers = config.admission_max_concurrent + config.admission_max_queue + _CONTROL_THREADS
        options = [
            ("grpc.max_receive_message_length", config.max_message_bytes),
            ("grpc.max_send_message_length", config.max_message_bytes),
            ("grpc.so_reuseport", 0),  # a second server must not silently share the port
            # Clients keep idle connections alive with pings every 30 s (worker/client.py);
            # allow that rather than answering GOAWAY "too_many_pings".
            ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
            ("grpc.keepalive_permit_without_calls", 1),
        ]
        if config.grpc_max_connection_age_s > 0:
            # A closed connection makes a client re-resolve the headless Service's DNS
            # name, so replicas added by the autoscaler get traffic. Calls in flight on
            # the old connection get the drain grace to finish.
            options += [
                ("grpc.max_connection_age_ms", int(config.grpc_max_connection_age_s * 1000)),
                ("grpc.max_connection_age_grace_ms", int(max(config.drain_grace_s, 6.0) * 1000)),
            ]
        server = grpc.server(
            _PrestartedExecutor(max_workers=workers, thread_name_prefix="toolpool-rpc"),
            options=options,
            # Backstop only: admission refuses calls long before.
            maximum_concurrent_rpcs=workers * 4 + _HEALTH_WATCHERS,
        )
        _add_tool_pool(ToolPoolServicer(service, Authenticator(config.clients)), server)
        self._health = health.HealthServicer(
            experimental_non_blocking=True,
            experimental_thread_pool=_PrestartedExecutor(max_workers=2, thread_name_prefix="toolpool-health"),
        )
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME), server
        )
        address = config.address
        try:
            if config.tls_cert_file:
                port = server.add_secure_port(address, _server_credentials(config))
            else:
                port = server.add_insecure_port(address)
        except RuntimeError:  # grpc >= 1.50 raises "Failed to bind to address ..."
            port = 0
        if port == 0:
            check_can_listen(config.host, config.port)  # names the cause when it can
            raise ListenError(f"cannot listen on {address}; use --host or --port")
        # Tools' outbound HTTP never reaches the service's own ports unless a rule lists
        # the port: set before the first call can arrive. A metrics port of 0 is known
        # only once bound, and added then (start).
        metrics_port = config.metrics_port if config.metrics_enabled else None
        service.protect_ports([port, metrics_port])
        server.start()
        self._server = server
        for name in ("", SERVICE_NAME):
            self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        return port

    def stop(self, grace_s: float | None = None) -> None:
        """Drains and shuts down (see the module docstring). Safe to call more than once."""
        with self._stop_lock:
            if self._stopped.is_set():
                return
            if self.port is None:  # start() failed; it already closed the pool
                self._stopped.set()
                return
            grace = self.config.drain_grace_s if grace_s is None else grace_s
            started = time.monotonic()
            log.info("draining (grace %.1f s)", grace)
            if self._health is not None:
                self._health.enter_graceful_shutdown()
            if self.service is not None:
                self.service.drain()
                if not self.service.wait_idle(grace):
                    log.warning("grace period over with calls still running; closing the pool ends them")
            if self.pool is not None:
                self._close_pool(self.pool)
            if self._server is not None:
                # Calls that were still running got their verdict when the pool closed;
                # give those responses a moment to go out.
                self._server.stop(grace=1.0).wait()
            if self.store is not None:
                self.store.close()
            if self._metrics_endpoint is not None:
                self._metrics_endpoint.close()
            self._stopped.set()
            log.info("stopped after %.2f s", time.monotonic() - started)

    def _close_pool(self, pool: Pool) -> None:
        try:
            pool.close()
        except OSError:
            # Keep shutting down (the listener, the store) even if the pool could not
            # finish; the log says so, and the process exit ends what is left.
            log.exception("closing the sandbox pool failed")

    def wait_stopped(self, timeout: float | None = None) -> bool:
        return self._stopped.wait(timeout)


def _server_credentials(config: Config) -> grpc.ServerCredentials:
    key_file, cert_file = config.tls_key_file, config.tls_cert_file
    if key_file is None or cert_file is None:  # load_config refuses one without the other
        raise ConfigError("tls.cert_file and tls.key_file: give both or neither")
    key = key_file.read_bytes()
    cert = cert_file.read_bytes()
    client_ca = config.tls_client_ca_file.read_bytes() if config.tls_client_ca_file else None
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


STOP_SLACK_S = 20.0  # past the drain grace: closing the pool, the listener and the store

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def bound_malloc(arenas: int = 2, mmap_threshold: int = 128 * 1024) -> bool:
    """Keeps the server's resident memory close to what it holds (glibc only; before any
    thread starts). By default glibc gives each thread its own arena (up to 8 per core)
    and raises the mmap threshold as large blocks are freed, so bundles, requests and
    compile answers of a few hundred KB, freed by gRPC's many threads, would stay resident
    long after the caches dropped them: measured, a flood of distinct uploads grew the
    server by 80 MiB for a 64 MiB cache budget, and by 61 MiB with these settings
    (tests/uploads/test_server_floods.py). Same as ``MALLOC_ARENA_MAX=2`` and
    ``MALLOC_MMAP_THRESHOLD_=131072`` in the environment. Returns False where there is no
    glibc ``mallopt`` (nothing is changed)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas)) and bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold))


def serve_forever(config: Config, *, announce: Callable[[int], None] | None = None) -> int:
    """Runs a server until SIGTERM or SIGINT, then drains. Returns a process exit code.

    Must run in the main thread (signal handlers). ``announce`` is told the bound port.
    """
    stop_requested = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        stop_requested.set()  # only enqueue; the loop below does the work

    observability.configure_logging(config.log_format, config.log_level)
    bound_malloc()
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    server = ToolpoolServer(config)
    try:
        port = server.start()
        if announce is not None:
            announce(port)
        while not stop_requested.wait(timeout=1.0):
            pass
        log.info("stop requested")
    finally:
        # A shutdown that outlives its grace by STOP_SLACK_S is a bug: the thread stacks go
        # to stderr (the log) and the process exits 1, rather than hang until SIGKILL.
        faulthandler.dump_traceback_later(config.drain_grace_s + STOP_SLACK_S, exit=True)
        server.stop()
        faulthandler.cancel_dump_traceback_later()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def announce_json(port: int, host: str) -> None:
    """One machine-readable line on stdout, for scripts and tests that start the server."""
    sys.stdout.write(json.dumps({"event": "serving", "host": host, "port": port}) + "\n")
    sys.stdout.flush()
