"""The service's domain logic, with no gRPC in it: deploy, execute, versions, secrets, egress.

``ToolService`` is what the gRPC servicer calls after authentication and translation.
It owns the order of an Execute: resolve the version (alias cache -> store; compiled-bundle
cache -> store), check the function, work out the call's time budget, pass admission, run the call in the
sandbox pool, log one line. It raises ``worker.errors.ServiceError`` for the caller's
mistakes and the service's state, and lets the sandbox's ``InvalidInput`` and
``PoolUnavailable`` through for ``worker/translate.py`` to map; a tool's own failure
comes back as a ``Result``.

Time. A call has one deadline (``sandbox.deadline.Deadline``), made once by ``deadline``
as its request arrives (``received_at``, a ``time.monotonic()`` value): it must finish by
``min(received_at + budget, received_at + rpc_remaining - margin)``, where the budget is
the request's ``deadline_ms`` capped by the tool kind's default (or that default), and
``rpc_remaining`` the time the caller's gRPC deadline leaves; the margin leaves time for
the verdict to travel back, so the caller sees status ``timeout`` rather than its own
DEADLINE_EXCEEDED. That value bounds the compile wait and admission and goes to the pool
as it is. A call is started only if at least ``min_run_ms`` of it remains.

Caches (worker/catalog.py). Only Execute reads through them: aliases, secrets and egress
policies are cached per tenant until the store reports a change (from any replica), and
compiled versions by content; so a call whose rows are cached touches no database and
keeps running while the database is away. The read RPCs read the store itself.

Egress. A call gets its tenant's stored egress policy (None if none is stored: no
outbound HTTP at all), with the server's own ports added as protected ports
(``protect_ports``), as ``CallRequest.egress``. Parsed policies are cached by (tenant,
updated_ms); the store makes updated_ms grow with every change, so a parsed policy is
never confused with another. Setting a policy is for operator clients; the servicer checks that.

Trust: requests have been authenticated and authorized for their tenant by the caller of
this class; everything in them is otherwise unchecked until here or the sandbox.
"""

from __future__ import annotations

import logging
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.bundles import Bundle
from sandbox.deadline import Deadline
from sandbox.egress.policy import EgressPolicy
from sandbox.errors import CompileFailure
from sandbox.policy import DEFAULT_POLICY, START_FUNCTION, Policy
from sandbox.result import Result
from sandbox.supervisor.call import CallInput, CallRequest, validate_input
from worker.admission import Admission
from worker.catalog import Budget, BundleCache, FairCache, RowCache, estimate_bytes
from worker.checks import (
    ALIAS_RE,
    CALL_ID_RE,
    EGRESS_ENTRY_BYTES,
    TENANT_RE,
    VERSION_RE,
    check_egress_policy,
    check_name,
    check_secret_name,
)
from worker.compiles import CompileGate, CompileLimits, gate_for
from worker.errors import DeadlineTooShort, InvalidArgument, NotFound, Unavailable
from worker.metrics import Metrics
from worker.store import ALIAS, EGRESS, SECRETS, OverQuota, Store, StoredEgressPolicy, StoredVersion
from worker.uploads import TenantLimits, UploadLimit, check_bundle, check_policy_size, check_secret_value

log = logging.getLogger("toolpool.service")


@dataclass(frozen=True)
class Target:
    """Which version to use: exactly one of version_id and alias."""

    version_id: str | None = None
    alias: str | None = None


@dataclass(frozen=True)
class ExecuteCall:
    """One Execute, as the servicer hands it over: its call id and deadline fixed as the
    request arrived (``ToolService.deadline``), its conversation and arguments checked."""

    tenant: str
    target: Target
    function: str
    deadline: Deadline
    call_id: str
    input: CallInput = field(default_factory=validate_input)


@dataclass(frozen=True)
class CompileErrorInfo:
    file: str
    line: int
    message: str


@dataclass(frozen=True)
class DeployOutcome:
    """Either version_id/functions/created (deployed) or errors (nothing stored)."""

    version_id: str | None = None
    functions: tuple[str, ...] = ()
    created: bool = False
    errors: tuple[CompileErrorInfo, ...] = ()


@dataclass(frozen=True)
class Executed:
    result: Result
    version_id: str
    call_id: str


@dataclass(frozen=True)
class Timing:
    margin_ms: int = 100
    min_run_ms: int = 20


class ToolService:
    def __init__(
        self,
        store: Store,
        pool: Any,  # sandbox.supervisor.pool.Pool; Any so that a test double fits
        admission: Admission,
        *,
        policy: Policy = DEFAULT_POLICY,
        timing: Timing = Timing(),
        clock: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
        cache_budget: Budget = Budget.of(),
        uploads: TenantLimits = TenantLimits(),
        compiles: CompileGate | None = None,
        compile_limits: CompileLimits = CompileLimits(),
    ):
        self._store = store
        self._pool = pool
        # Tenant source is compiled only in confined workers of the pool, fairly.
        self._compiles = compiles if compiles is not None else (gate_for(pool, compile_limits) if pool else None)
        self._admission = admission
        self._policy = policy
        self._timing = timing
        self._clock = clock
        self._uploads = uploads
        self._bundles = BundleCache(cache_budget.bundles)
        self._rows = RowCache(cache_budget.rows)
        store.subscribe(self._rows.invalidate)
        self._draining = threading.Event()
        self.metrics = metrics if metrics is not None else Metrics()
        self._egress_lock = threading.Lock()
        self._protected_ports: frozenset[int] = frozenset()
        # tenant -> (updated_ms, protected ports, policy); sized by the stored policy's data
        # plus what the loaded policy adds (its compiled patterns, an SSL context for a CA)
        self._egress_cache: FairCache[tuple[int, frozenset[int], EgressPolicy]] = FairCache(cache_budget.egress)

    # -- lifecycle --------------------------------------------------------------------

    def check_open(self) -> None:
        """Raises Unavailable(DRAINING) once drain() was called."""
        if self._draining.is_set():
            raise Unavailable("server is draining; the call did not start", reason="DRAINING")

    def drain(self) -> None:
        """Refuses new calls and every queued call; calls already running go on."""
        self._draining.set()
        self._admission.close()
        if self._compiles is not None:
            self._compiles.close()

    def wait_idle(self, timeout: float | None) -> bool:
        return self._admission.wait_idle(timeout)

    @property
    def draining(self) -> bool:
        return self._draining.is_set()

    def cache_info(self) -> dict[str, dict[str, int]]:
        """Each cache's counters and bytes (worker/catalog.py), by cache name."""
        return {"bundles": self._bundles.info(), "rows": self._rows.info(), "egress": self._egress_cache.info()}

    # -- deploy -----------------------------------------------------------------------

    def deploy(
        self, tenant: str, files: Mapping[str, str], alias: str | None, *, wait_until: float | None = None
    ) -> DeployOutcome:
        """Compiles (confined) and stores the bundle and moves the alias, all or nothing.
        ``wait_until`` (a ``clock()`` value) bounds the wait for a compile slot."""
        check_name(TENANT_RE, tenant, "tenant", "tenant name")
        if alias:
            check_name(ALIAS_RE, alias, "alias", "alias")
        limits = self._uploads.of(tenant)
        check_bundle(tenant, files, limits, self._policy.limits.source_bytes)
        try:
            bundle = self._compile(tenant, files, wait_until)
        except CompileFailure as failure:
            log.info("deploy refused tenant=%s files=%d: compile errors", tenant, len(files))
            return DeployOutcome(errors=compile_errors(failure, files))
        functions = tuple(sorted(bundle.functions))
        try:
            created = self._store.put_version(
                tenant,
                bundle.version_id,
                files,
                functions,
                alias or None,
                keep_versions=limits.versions,
                max_aliases=limits.aliases,
            )
        except OverQuota as over:
            raise _over_quota(tenant, over) from None
        self._bundles.put((tenant, bundle.version_id), bundle)
        log.info(
            "deployed tenant=%s version=%s alias=%s created=%s functions=%d",
            tenant,
            bundle.version_id,
            alias or "-",
            created,
            len(functions),
        )
        return DeployOutcome(version_id=bundle.version_id, functions=functions, created=created)

    # -- execute ----------------------------------------------------------------------

    def execute(self, call: ExecuteCall, *, received_at: float, cancelled: threading.Event | None = None) -> Executed:
        """Runs one call. The caller has authorized call.tenant; ``received_at`` is when
        the request arrived, for the metrics."""
        self.check_open()
        check_name(TENANT_RE, call.tenant, "tenant", "tenant name")
        if not call.function.isidentifier():
            raise InvalidArgument("function", f"{call.function[:80]!r} is not a function name")
        call_id = check_name(CALL_ID_RE, call.call_id, "call_id", "call id")
        version_id = self._resolve_id(call.tenant, call.target, cached=True)
        try:
            bundle = self._bundle(call.tenant, version_id, call.deadline.at)
        except CompileFailure as failure:
            # Stored versions compiled when deployed; this happens only if the policy
            # changed since. The tool failed, not the request: a result, not an RPC error.
            state = call.input.conversation["state"]
            result = Result(status=failure.status, state=dict(state), error=failure.to_error_info())
            self.metrics.call_finished(
                call.tenant, call.function, result.status.value, queue_s=0.0, total_s=self._clock() - received_at
            )
            return Executed(result=result, version_id=version_id, call_id=call_id)
        if call.function not in bundle.functions:
            raise NotFound(
                f"version {version_id} of tenant {call.tenant!r} has no function {call.function!r}; "
                f"it defines: {', '.join(sorted(bundle.functions))}",
                reason="FUNCTION_NOT_FOUND",
            )
        start_by = self._start_by(call.deadline)
        if start_by <= self._clock():
            raise DeadlineTooShort(
                "the call's deadline leaves no time to run it (the server keeps "
                f"{self._timing.margin_ms} ms for the reply and needs {self._timing.min_run_ms} ms to run)"
            )
        with self._admission.admit(call.tenant, is_start=call.function == START_FUNCTION, start_by=start_by):
            started = self._clock()
            # From here the tool may run: a client that loses this replica now gets
            # may_have_run=True, and this line is how an operator tells that it had started.
            log.debug("call started", extra={"event": "call_started", "call_id": call_id})
            request = CallRequest(
                tenant=call.tenant,
                bundle=bundle,
                function=call.function,
                input=call.input,
                secrets=self._secrets_for_call(call.tenant),
                egress=self._egress_for_call(call.tenant),
                deadline=call.deadline,
                policy=self._policy,
                call_id=call_id,
            )
            result = self._pool.execute(request, cancelled=cancelled)
        finished = self._clock()
        self.metrics.call_finished(
            call.tenant,
            call.function,
            result.status.value,
            queue_s=started - received_at,
            total_s=finished - received_at,
        )
        log.info(
            "call call_id=%s tenant=%s version=%s function=%s status=%s queue_ms=%.1f wall_ms=%.1f",
            call_id,
            call.tenant,
            version_id,
            call.function,
            result.status.value,
            (started - received_at) * 1000,
            result.usage.wall_ms,
            extra={
                "event": "call_finished",
                "call_id": call_id,
                "tenant": call.tenant,
                "version_id": version_id,
                "function": call.function,
                "status": result.status.value,
                "queue_ms": round((started - received_at) * 1000, 3),
                "total_ms": round((finished - received_at) * 1000, 3),
                "wall_ms": round(result.usage.wall_ms, 3),
                "cpu_ms": round(result.usage.cpu_ms, 3),
                "peak_rss_bytes": result.usage.peak_rss_bytes,
            },
        )
        return Executed(result=result, version_id=version_id, call_id=call_id)

    def deadline(
        self, function: str, deadline_ms: int, *, received_at: float, rpc_remaining_s: float | None
    ) -> Deadline:
        """The call's one deadline, made as its request arrives (the servicer calls this
        once, with what the request and its gRPC context say): ``deadline_ms`` (0: the tool
        kind's default) capped by the tool kind's default, and at the latest ``margin_ms``
        before the caller's own deadline (``rpc_remaining_s`` after ``received_at``; None:
        none). Everything after reads that value; nothing converts it again."""
        budget_ms = self._policy.limits.deadline_for(function, deadline_ms or None)
        deadline = Deadline.after(budget_ms, now=received_at)
        if rpc_remaining_s is not None:
            rpc_ms = rpc_remaining_s * 1000 - self._timing.margin_ms
            deadline = deadline.within(Deadline.after(rpc_ms, now=received_at))
        return deadline

    def refuse_early(self, tenant: str, function: str, deadline: Deadline) -> None:
        """Raises ``Refused`` now for a call that admission would refuse at once (no free
        slot, and a full queue or a wait past its start-by time), before its request is
        parsed: under overload a refusal must cost next to nothing, whatever the size of
        the conversation it carries, or refusing large requests would take the CPU that
        running the admitted ones needs. It takes nothing; ``execute`` admits as ever."""
        self._admission.refuse_if_hopeless(
            tenant, is_start=function == START_FUNCTION, start_by=self._start_by(deadline)
        )

    def _start_by(self, deadline: Deadline) -> float:
        """The latest a call may start: its deadline less the least useful run time."""
        return deadline.at - self._timing.min_run_ms / 1000

    def _bundle(self, tenant: str, version_id: str, wait_until: float) -> Bundle:
        """The compiled version: from the cache, else fetched from the store (one query) and
        compiled, waiting for a compile slot until ``wait_until`` at most."""
        bundle = self._bundles.get((tenant, version_id))
        if bundle is not None:
            return bundle
        stored = self._store.get_version(tenant, version_id)
        if stored is None:
            raise NotFound(
                f"tenant {tenant!r} has no version {version_id} on this server; deploy it again",
                reason="VERSION_NOT_FOUND",
            )
        bundle = self._compile(tenant, stored.files, wait_until)
        self._bundles.put((tenant, version_id), bundle)
        return bundle

    def _compile(self, tenant: str, files: Mapping[str, str], wait_until: float | None) -> Bundle:
        """The bundle, compiled in a confined worker once the tenant's turn comes."""
        if self._compiles is None:
            raise Unavailable("this service has no sandbox pool to compile in", reason="POOL_UNAVAILABLE")
        limit = self._policy.limits.compile_wall_ms / 1000
        wait_until = wait_until if wait_until is not None else self._clock() + limit
        return self._compiles.compile(tenant, dict(files), self._policy, wait_until=wait_until)

    def compile_info(self) -> dict[str, int]:
        return self._compiles.info() if self._compiles is not None else {}

    def _resolve_id(self, tenant: str, target: Target, *, cached: bool = False) -> str:
        """The version id ``target`` names; through the alias cache only when ``cached`` (Execute)."""
        if target.alias:
            check_name(ALIAS_RE, target.alias, "alias", "alias")
            alias = target.alias
            if cached:
                version_id = self._rows.lookup(
                    ALIAS,
                    tenant,
                    alias,
                    lambda: self._store.resolve_alias(tenant, alias),
                    keep=lambda found: found is not None,
                )
            else:
                version_id = self._store.resolve_alias(tenant, alias)
            if version_id is None:
                raise NotFound(
                    f"tenant {tenant!r} has no alias {target.alias!r} on this server; deploy it again",
                    reason="ALIAS_NOT_FOUND",
                )
            return version_id
        if not target.version_id:
            raise InvalidArgument("target", "give version_id or alias")
        return check_name(VERSION_RE, target.version_id, "version_id", "version id")

    # -- versions ---------------------------------------------------------------------

    def get_version(self, tenant: str, target: Target) -> StoredVersion:
        self.check_open()
        check_name(TENANT_RE, tenant, "tenant", "tenant name")
        version_id = self._resolve_id(tenant, target)
        stored = self._store.get_version(tenant, version_id)
        if stored is None:
            raise NotFound(f"tenant {tenant!r} has no version {version_id} on this server", reason="VERSION_NOT_FOUND")
        return stored

    def list_versions(self, tenant: str) -> list[StoredVersion]:
        self.check_open()
        check_name(TENANT_RE, tenant, "tenant", "tenant name")
        return self._store.list_versions(tenant)

    # -- secrets (write-only) -----------------------------------------------------------

    def set_secret(self, tenant: str, name: str, value: str) -> bool:
        self.check_open()
        check_name(TENANT_RE, tenant, "tenant", "tenant name")
        check_secret_name(name)
        limits = self._uploads.of(tenant)
        check_secret_value(tenant, value, limits)
        try:
            created = self._store.set_secret(tenant, name, value, max_secrets=limits.secrets)
        except OverQuota as over:
            raise _over_quota(tenant, over) from None
        log.info("secret set tenant=%s name=%s created=%s", tenant, name, created)  # never the value
        return created

    def delete_secret(self, tenant: str, name: str) -> bool:
        self.check_open()
        check_name(TENANT_RE, tenant, "tenant", "tenant name")
        check_secret_name(name)
        deleted = self._store.delete_secret(tenant, name)
        log.info("secret deleted tenant=%s name=%s existed=%s", tenant, name, deleted)
        return deleted

    def secret_names(self, tenant: str) -> list[str]:
        self.check_open()
        check_name(TENANT_RE, tenant, "tenant", "tenant name")
        return self._store.secret_names(tenant)

    # -- egress policies (outbound HTTP) -------------------------------------------------

    def protect_ports(self, ports: Iterable[int | None]) -> None:
        """The server's own listening ports (gRPC, metrics): every call's egress policy
        refuses them on every address unless the rule that allows a URL lists the port."""
        with self._egress_lock:
            self._protected_ports = frozenset(p for p in ports if p)
            self._egress_cache.clear()

    def set_egress_policy(
        self, tenant: str, policy: Mapping[str, Any] | None, *, actor: str = ""
    ) -> StoredEgressPolicy:
        """Stores the tenant's egress policy, checked and normalised (None: no egress).
        The caller has checked that the client is an operator."""
        self.check_open()
        check_name(TENANT_RE, tenant, "tenant", "tenant name")
        if policy is not None:
            check_policy_size(tenant, policy, self._uploads.of(tenant))
        data = None if policy is None else check_egress_policy(policy).to_dict()
        updated_ms = self._store.set_egress_policy(tenant, data)
        if data is None:
            log.info("egress policy off tenant=%s by=%s", tenant, actor or "-")
        else:
            log.info(
                "egress policy set tenant=%s by=%s hosts=%s addresses=%s",
                tenant,
                actor or "-",
                ",".join(r["pattern"] for r in data["hosts"]) or "-",
                ",".join(r["network"] for r in data["addresses"]) or "-",
            )
        return StoredEgressPolicy(policy=data, updated_ms=updated_ms)

    def egress_policy(self, tenant: str) -> StoredEgressPolicy | None:
        self.check_open()
        check_name(TENANT_RE, tenant, "tenant", "tenant name")
        return self._store.egress_policy(tenant)

    def _secrets_for_call(self, tenant: str) -> dict[str, str]:
        return self._rows.lookup(SECRETS, tenant, "", lambda: self._store.secrets_for_call(tenant))

    def _egress_for_call(self, tenant: str) -> EgressPolicy | None:
        """The call's EgressPolicy: the tenant's stored one (cached until it changes) plus the
        protected ports, or None."""
        stored = self._rows.lookup(EGRESS, tenant, "", lambda: self._store.egress_policy(tenant))
        if stored is None or stored.policy is None:
            return None
        with self._egress_lock:
            ports = self._protected_ports
        cached = self._egress_cache.get(tenant, "")
        if cached is not None and cached[:2] == (stored.updated_ms, ports):
            return cached[2]
        try:
            policy = EgressPolicy.from_dict(stored.policy)
        except (ValueError, TypeError, ssl.SSLError):
            # Stored policies were checked when set; this happens only if the rules changed
            # since. Fail closed: the tenant's tools get no egress until it is set again.
            log.exception("the stored egress policy of tenant %s does not load: no egress", tenant)
            return None
        if ports:
            policy = policy.with_protected_ports(ports)
        size = EGRESS_ENTRY_BYTES + 2 * estimate_bytes(stored.policy)
        self._egress_cache.put(tenant, "", (stored.updated_ms, ports, policy), size)
        return policy


def _over_quota(tenant: str, over: OverQuota) -> UploadLimit:
    field = {"versions": "files", "aliases": "alias", "secrets": "name"}.get(over.what, over.what)
    hint = {
        "versions": " (aliases name every version the limit keeps: move or delete an alias first)",
        "aliases": " (delete an alias first)",
        "secrets": " (delete a secret first)",
    }.get(over.what, "")
    return UploadLimit(
        field, f"tenant {tenant!r} would have {over.count} {over.what}; upload.{over.what} is {over.limit}{hint}"
    )


_ERROR_LINE = re.compile(r"^\s*(?P<file>[^\s:]+\.py):(?P<line>\d+)(?::\d+)?:?\s*(?P<message>.*)$")


def compile_errors(failure: CompileFailure, files: Mapping[str, str]) -> tuple[CompileErrorInfo, ...]:
    """One CompileErrorInfo per error the compiler reported, each naming its file and line."""
    structured = getattr(failure, "errors", None)
    if structured:
        return tuple(
            CompileErrorInfo(
                file=str(_get(e, "file") or ""), line=int(_get(e, "line") or 0), message=str(_get(e, "message") or "")
            )
            for e in structured
        )
    parsed = []
    for line in str(failure.message).splitlines():
        match = _ERROR_LINE.match(line)
        if match and match["file"] in files:
            parsed.append(CompileErrorInfo(match["file"], int(match["line"]), match["message"].strip()))
    if parsed:
        return tuple(parsed)
    return (CompileErrorInfo(file=failure.file or "", line=failure.line or 0, message=failure.message),)


def _get(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)
