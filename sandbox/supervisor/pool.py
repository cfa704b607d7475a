"""The supervisor's pool of confined, single-use children.

Runs in the trusted server (or CLI) process and never runs tool code. Its verbs are
start, acquire, execute, kill, release, close. It starts ``sandbox.template`` (a small
exec'd interpreter that never imports grpc), asks it for children ahead of demand and
receives each child's channel and pidfd over a unix socket (``template_control.py``,
the base class of ``Pool``). A call then costs one frame each way on an
already-confined child (``children.py``: the handle on one child and the wait for its
answer); forking and confinement happen off the critical path.

Deadlines: the child arms its own ITIMER_REAL (SIGALRM, default action: terminate) at
the call's deadline, and the supervisor's wait on the channel ends at the same deadline
with a SIGKILL through the pidfd, which a tool cannot catch or block. Whichever comes
first ends the call; the verdict is ``timeout`` either way.

Usage figures come from the kernel: ``/proc/PID/schedstat`` and ``VmHWM`` read while a
replying child waits for EOF, or the template's ``wait4`` rusage for a child that died.

Modes:
  fresh  every call gets a process that has never run another call (the default);
  reuse  a child serves up to ``reuse_max_calls`` calls of ONE (tenant, version, policy)
         key, like a warm Lambda container. It gives up: module globals, caches and any
         object a tool hides persist between that key's calls (conversations of the same
         tenant can see each other's residue); each call still has its own CPU budget, but
         the RLIMIT_CPU backstop is one budget for the process's calls; a tool that
         corrupts its interpreter affects that key's later calls.
         Children are never shared between tenants in either mode.
"""

from __future__ import annotations

import collections
import json
import logging
import marshal
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox import protocol
from sandbox.confine.config import ConfinementConfig
from sandbox.confine.selftest import check_probe_results
from sandbox.egress import fetch
from sandbox.errors import ConfinementUnavailable, FunctionNotFound, PoolUnavailable
from sandbox.policy import Limits
from sandbox.result import Result, Status, Usage
from sandbox.supervisor import call as call_mod
from sandbox.supervisor import verdict
from sandbox.supervisor.cgroups import CgroupConfig, TenantGroups
from sandbox.supervisor.children import Child, ReuseKey, await_reply, death_cause
from sandbox.supervisor.template_control import TemplateControl

log = logging.getLogger("toolpool.pool")

_DEATH_WAIT_S = 5.0
_REPORT_GRACE_S = 0.05  # how long a deadline verdict waits for the template's exit report
_SELFTEST_DEADLINE_MS = 5_000


@dataclass(frozen=True)
class PoolConfig:
    mode: str = "fresh"  # "fresh" or "reuse"
    ready_children: int = 4
    reuse_max_calls: int = 100
    reuse_idle_seconds: float = 60.0
    # The ceiling every child is confined with; each call lowers its own limits below it.
    limits: Limits = field(default_factory=Limits)
    confinement: ConfinementConfig = field(default_factory=ConfinementConfig)
    acquire_timeout_s: float = 5.0
    python: str = sys.executable
    # Children kept ready for compiles (``Pool.work``), each warmed by a small compile so
    # that a deploy's compile does not take the compiler's first-use page faults. 0: a
    # compile takes a call's ready child.
    compile_workers: int = 1
    # A cgroup per tenant with a CPU weight (sandbox/supervisor/cgroups.py): off unless enabled.
    cgroups: CgroupConfig = field(default_factory=CgroupConfig)

    def __post_init__(self) -> None:
        if self.mode not in ("fresh", "reuse"):
            raise ValueError(f"mode must be 'fresh' or 'reuse', got {self.mode!r}")
        if self.ready_children < 1:
            raise ValueError("ready_children must be at least 1")
        if self.reuse_max_calls < 1:
            raise ValueError("reuse_max_calls must be at least 1")
        if self.compile_workers < 0:
            raise ValueError("compile_workers must be at least 0")

    @property
    def max_calls_per_child(self) -> int:
        return self.reuse_max_calls if self.mode == "reuse" else 1

    def ceiling_limits(self) -> Limits:
        """The limits children are confined with: room for a call or a compile, whichever
        needs more (each lowers its own limits below this at once). A reused child's CPU
        budget covers all its calls."""
        limits = self.limits
        return limits.with_(
            cpu_seconds=max(limits.cpu_seconds * self.max_calls_per_child, limits.compile_cpu_seconds),
            memory_bytes=max(limits.memory_bytes, limits.compile_memory_bytes),
        )


@dataclass(frozen=True)
class WorkOutcome:
    """How a job other than a call ended (``Pool.work``): ``kind`` is "reply" (``payload``
    holds the answer, untrusted), "deadline", "overrun" (an answer over the cap),
    "protocol", or "eof" (the child died: ``death`` is the kernel's report, if it came)."""

    kind: str
    payload: bytes | None
    death: verdict.Death | None = None
    cpu_ms: float = 0.0


class Pool(TemplateControl):
    config: PoolConfig  # what TemplateControl reads of it, and the pool's own settings

    def __init__(self, config: PoolConfig | None = None):
        self.config = config or PoolConfig()
        self._lock = threading.Condition()
        self._ready: collections.deque[Child] = collections.deque()
        self._compile_ready: collections.deque[Child] = collections.deque()  # warmed for compiles
        self._compile_spawning = 0
        self._idle: dict[ReuseKey, list[Child]] = {}
        self._children: dict[int, Child] = {}
        self._spawning = 0
        self._waiters = 0  # calls blocked in _acquire, waiting for a ready child
        self._cpus = len(os.sched_getaffinity(0))
        self._closed = False
        self._started = False
        self._ctl: socket.socket | None = None
        self._template: subprocess.Popen[bytes] | None = None
        self._manager: threading.Thread | None = None
        self._generation = 0
        self._in_flight = 0
        self.counters: collections.Counter[str] = collections.Counter()
        self.cgroups = TenantGroups(self.config.cgroups)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the template and prove the confinement holds. Raises ConfinementUnavailable."""
        if self._started:
            return
        self.cgroups.open()  # says once whether tenants get CPU weights here; never fails the start
        first: queue.Queue[BaseException | None] = queue.Queue(maxsize=1)
        self._manager = threading.Thread(target=self._manage, args=(first,), name="toolpool-pool-manager", daemon=True)
        self._manager.start()
        error = first.get()
        if error is not None:
            self._manager.join()
            self.cgroups.close()
            raise error
        self._started = True
        try:
            self.selftest()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Kill every child, stop the template. No process is left behind."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            children = list(self._children.values())
            self._ready.clear()
            self._compile_ready.clear()
            self._idle.clear()
            self._lock.notify_all()
        for child in children:
            child.kill()
        with self._lock:
            ctl, template = self._ctl, self._template
        if ctl is not None:
            try:
                ctl.shutdown(socket.SHUT_RDWR)  # the template sees EOF, kills its children, exits
            except OSError:
                pass
        if self._manager is not None:
            self._manager.join(timeout=15)
        if template is not None and template.poll() is None:
            template.kill()
            template.wait()
        for child in children:
            child.close()
        self.cgroups.close()  # the children are gone: their groups are empty

    def __enter__(self) -> Pool:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "mode": self.config.mode,
                "ready_children": len(self._ready),
                "ready_compile_workers": len(self._compile_ready),
                "idle_reuse_children": sum(len(v) for v in self._idle.values()),
                "spawning": self._spawning,
                "in_flight": self._in_flight,
                "live_children": len(self._children),
                "template_pid": self._template.pid if self._template else None,
                "template_generation": self._generation,
                **{f"count_{k}": v for k, v in self.counters.items()},
                **self.cgroups.stats(),
            }

    def child_pids(self) -> list[int]:
        with self._lock:
            return list(self._children)

    def busy_child_pids(self) -> list[int]:
        """Children running a call right now (neither ready nor idle)."""
        with self._lock:
            waiting = {c.pid for c in self._ready} | {c.pid for c in self._compile_ready}
            waiting.update(c.pid for idle in self._idle.values() for c in idle)
            return [pid for pid in self._children if pid not in waiting]

    # -- acquiring and releasing children -----------------------------------------------

    def _top_up(self, urgent: bool = True) -> None:
        """Ask the template for children until ready + spawning reaches the target. Holds the lock.

        Not urgent (a call just took a child and others are ready): wait until a quarter
        of the target is missing, so forks come in batches and fewer wake-ups of the
        template compete with calls in flight.

        A child normally runs one warm-up call before it is ready, which moves about 1 ms
        of first-touch page faults off its real call. When calls are waiting for a child,
        or more calls are running than the pool has CPUs, CPU is the bottleneck: the
        warm-up would cost more CPU than it saves (bench/child_cost.py: about 0.5 ms net)
        and delay the child, so the batch comes cold (about 11% more calls/s at saturation
        over gRPC, measured against always-warm in one sitting).
        """
        want = self.config.ready_children - len(self._ready) - self._spawning
        if want <= 0 or self._closed or self._ctl is None:
            return
        if not urgent and self._ready and want < max(1, self.config.ready_children // 4):
            return
        self._spawning += want
        warm = not self._waiters and self._in_flight < self._cpus
        if not warm:
            self.counters["cold_spawns"] += want
        message = {"op": "spawn", "count": want, "max_calls": self.config.max_calls_per_child, "warm": warm}
        try:
            self._ctl.send(json.dumps(message).encode())
        except OSError:
            self._spawning -= want

    def _top_up_compiles(self) -> None:
        """Ask for children warmed for compiles until ready + spawning reaches the target.
        Holds the lock."""
        want = self.config.compile_workers - len(self._compile_ready) - self._compile_spawning
        if want <= 0 or self._closed or self._ctl is None:
            return
        self._compile_spawning += want
        message = {"op": "spawn", "count": want, "max_calls": 1, "warm": True, "purpose": "compile"}
        try:
            self._ctl.send(json.dumps(message).encode())
        except OSError:
            self._compile_spawning -= want

    def _acquire_for_work(self, wait_until: float) -> Child:
        """A child warmed for compiles if one is ready, else any ready child."""
        with self._lock:
            while self._compile_ready and not self._closed:
                child = self._compile_ready.popleft()
                self._top_up_compiles()
                if not child.has_exited():
                    return child
                child.dropped = True
                self.counters["ready_child_died"] += 1
            self._top_up_compiles()
        return self._acquire(None, wait_until)

    def _acquire(self, key: ReuseKey | None, wait_until: float) -> Child:
        with self._lock:
            while True:
                if self._closed:
                    raise PoolUnavailable("the pool is closed")
                if key is not None:
                    child = self._take_idle(key)
                    if child is not None:
                        return child
                if self._ready:
                    child = self._ready.popleft()
                    if child.has_exited():  # killed while ready; its exit report is on the way
                        child.dropped = True
                        self.counters["ready_child_died"] += 1
                        continue
                    self._top_up(urgent=False)
                    return child
                self._waiters += 1
                try:
                    self._top_up()
                    remaining = wait_until - time.monotonic()
                    if remaining <= 0:
                        self.counters["acquire_timeouts"] += 1
                        raise PoolUnavailable("no confined child became ready in time")
                    self._lock.wait(remaining)
                finally:
                    self._waiters -= 1

    def _take_idle(self, key: ReuseKey) -> Child | None:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            child = idle.pop()
            if child.pid in self._children and now - child.last_used < self.config.reuse_idle_seconds:
                return child
            self._discard(child)
        return None

    def _discard(self, child: Child) -> None:
        child.kill()
        child.close()

    def _release(self, child: Child, reusable: bool) -> None:
        key = child.key  # set by execute in reuse mode
        if reusable and key is not None and self.config.mode == "reuse" and child.calls < self.config.reuse_max_calls:
            child.last_used = time.monotonic()
            with self._lock:
                if not self._closed and child.pid in self._children:
                    self._idle.setdefault(key, []).append(child)
                    return
        child.close()  # EOF on its channel: the child exits and the template reaps it

    # -- running a call ----------------------------------------------------------------

    def execute(self, request: call_mod.CallRequest, cancelled: threading.Event | None = None) -> Result:
        """Run one call. Thread-safe and blocking.

        Raises InvalidInput for malformed caller input and PoolUnavailable when the pool
        is closed or cannot produce a child; every tool failure is a Result status.
        """
        started = time.monotonic()
        try:
            prepared = call_mod.prepare(request)
        except FunctionNotFound as exc:
            return Result(
                status=Status.NOT_FOUND, state=dict(request.input.conversation["state"]), error=exc.to_error_info()
            )
        if not self._started:
            raise PoolUnavailable("the pool has not been started")
        key: ReuseKey | None = None
        if self.config.mode == "reuse":
            key = (
                request.tenant,
                request.bundle.version_id,
                prepared.tool.filename,
                request.policy.fingerprint(),
                request.policy.limits,
            )
        child = self._acquire(key, min(prepared.deadline.at, started + self.config.acquire_timeout_s))
        child.key = key
        self._join_tenant_group(child, request.tenant)
        with self._lock:
            self._in_flight += 1
        try:
            result = self._run(child, prepared, started, cancelled)
        finally:
            with self._lock:
                self._in_flight -= 1
        self.counters[f"status_{result.status.value}"] += 1
        return result

    def _join_tenant_group(self, child: Child, tenant: str) -> None:
        """Charge the child's CPU to its tenant's cgroup (sandbox/supervisor/cgroups.py) before it gets
        its frame; a reused child is there already. Where groups are off, nothing happens."""
        if child.tenant != tenant and self.cgroups.join(child.pid, tenant):
            child.tenant = tenant

    def _run(
        self, child: Child, prepared: call_mod.PreparedCall, started: float, cancelled: threading.Event | None = None
    ) -> Result:
        child.calls += 1
        deadline = prepared.deadline.at
        sent_at = time.monotonic()
        try:
            child.channel.setblocking(True)
            protocol.send_frame(child.channel, prepared.frame())  # the time left, as of now
            child.channel.setblocking(False)
        except OSError:
            return self._after_death(child, prepared, started)
        outcome, payload = await_reply(
            child.channel,
            deadline,
            prepared.request.policy.limits.reply_bytes(),
            on_request=lambda body: self._answer_child(prepared, body, deadline),
            cancelled=cancelled,
        )
        if outcome == "reply" and payload is not None:  # a reply always has its payload
            cpu_ms, peak_rss = child.kernel_usage()
            wall_ms = (time.monotonic() - sent_at) * 1000.0
            usage = Usage(wall_ms=wall_ms, cpu_ms=cpu_ms, peak_rss_bytes=peak_rss)
            try:
                result = verdict.from_reply(prepared, payload, usage)
            except Exception:
                log.exception(
                    "a child's reply could not be judged (call %s); answering internal_error", prepared.call_id
                )
                self._release(child, reusable=False)
                return verdict.failed(
                    prepared, Status.INTERNAL_ERROR, "InternalError", "the child's reply could not be judged", usage
                )
            self._release(child, reusable=result.status in _REUSABLE)
            return result
        if outcome == "deadline":
            return self._timed_out(child, prepared, started)
        if outcome in ("overrun", "protocol", "cancelled"):
            child.kill()
            self.counters[f"kill_{outcome}"] += 1
        if outcome in _STOPPED:
            wait_s, kind, message = _STOPPED[outcome]
            child.exited.wait(wait_s)
            child.close()
            return verdict.failed(
                prepared, Status.INTERNAL_ERROR, kind, message, Usage(wall_ms=(time.monotonic() - started) * 1000.0)
            )
        return self._after_death(child, prepared, started, output_overrun=outcome == "overrun")

    def _timed_out(self, child: Child, prepared: call_mod.PreparedCall, started: float) -> Result:
        """The deadline passed: read the child's usage, SIGKILL it, answer at once.

        A SIGKILL through the pidfd cannot be caught, blocked or outlived, so the verdict
        does not wait for the process to be torn down and reaped (about a millisecond
        here, far more under load); the template's exit report arrives later and only
        retires the child.
        """
        cpu_ms, peak_rss = child.kernel_usage()
        child.kill()
        self.counters["kill_deadline"] += 1
        self.counters["death_sigkill"] += 1
        child.close()
        death = verdict.Death(signal=signal.SIGKILL, exit_code=None, cpu_ms=cpu_ms, peak_rss_bytes=peak_rss)
        return verdict.from_death(prepared, death, (time.monotonic() - started) * 1000.0, deadline_hit=True)

    def _answer_child(self, prepared: call_mod.PreparedCall, body: bytes, deadline: float) -> bytes:
        """Serve a child's mid-call request. The child is hostile: parse with care."""
        try:
            request = json.loads(body)
            op = request.get("op") if type(request) is dict else None
        except (ValueError, RecursionError):
            request, op = None, None
        self.counters["child_requests"] += 1
        if op == "http":
            # Outbound HTTP: sandbox/egress/fetch.py checks every field of the request against
            # the call's egress policy (None: no egress) and answers before the deadline.
            self.counters["child_http_requests"] += 1
            return fetch.serve(
                request,
                policy=prepared.request.egress,
                record=prepared.egress,
                deadline=deadline,
                deadline_ms=prepared.deadline.budget_ms,
                secrets=list(prepared.secrets.values()),
                redact=verdict.Redactor(prepared.secrets),
            )
        return json.dumps({"ok": False, "error": f"the supervisor offers no service {op!r}"}).encode()

    def _after_death(
        self, child: Child, prepared: call_mod.PreparedCall, started: float, output_overrun: bool = False
    ) -> Result:
        # The template's report says how the child died. An output verdict does not depend
        # on it, and the template may be frozen or dead: the caller's deadline is the
        # contract, so such a verdict waits for the report only a moment. (A deadline
        # verdict never comes here: _timed_out answers it at once.)
        known = output_overrun
        child.exited.wait(_REPORT_GRACE_S if known else _DEATH_WAIT_S)
        wall_ms = (time.monotonic() - started) * 1000.0
        child.close()
        death = child.death
        if death is None and known:
            death = verdict.Death(signal=signal.SIGKILL, exit_code=None, cpu_ms=0.0, peak_rss_bytes=0)
        self.counters[f"death_{death_cause(death)}"] += 1
        if death is None:
            self.counters["lost_exit_status"] += 1
            usage = Usage(wall_ms=wall_ms)
            return verdict.failed(
                prepared,
                Status.INTERNAL_ERROR,
                "InternalError",
                "the tool's process ended but its exit status was not reported",
                usage,
            )
        return verdict.from_death(prepared, death, wall_ms, deadline_hit=False, output_overrun=output_overrun)

    # -- jobs other than calls: the confined compile -------------------------------------

    def work(
        self,
        frame: bytes,
        wall_s: float,
        reply_cap: int,
        on_note: Callable[[bytes], bool] | None = None,
        tenant: str | None = None,
    ) -> WorkOutcome:
        """Hand one job other than a tool call (a compile) to a fresh confined child.

        The child gets ``frame``, may send notes on the way (``on_note`` returns False for
        one it should not have sent: that ends the job as a protocol violation), and answers
        with one frame of at most ``reply_cap`` bytes within ``wall_s``; then it exits. It
        is never reused. The outcome says what happened (the caller decides what it means)
        and carries the kernel's report of a child that died. With ``tenant`` the child
        runs in that tenant's CPU group. Raises PoolUnavailable when no confined child can
        be had.
        """
        if not self._started:
            raise PoolUnavailable("the pool has not been started")
        started = time.monotonic()
        deadline = started + wall_s
        child = self._acquire_for_work(min(deadline, started + self.config.acquire_timeout_s))
        if tenant is not None:
            self._join_tenant_group(child, tenant)
        with self._lock:
            self._in_flight += 1
        try:
            return self._work(child, frame, deadline, reply_cap, on_note)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _work(
        self, child: Child, frame: bytes, deadline: float, reply_cap: int, on_note: Callable[[bytes], bool] | None
    ) -> WorkOutcome:
        child.calls += 1
        try:
            child.channel.setblocking(True)
            child.channel.sendall(protocol.encode_frame(frame))
            child.channel.setblocking(False)
            outcome, payload = await_reply(child.channel, deadline, reply_cap, on_note=on_note)
        except OSError:
            outcome, payload = "eof", None
        if outcome == "reply" and payload is not None:  # a reply always has its payload
            cpu_ms, _ = child.kernel_usage()
            child.close()
            return WorkOutcome("reply", bytes(payload), cpu_ms=cpu_ms)
        if outcome != "eof":
            child.kill()
            self.counters[f"kill_{outcome}"] += 1
        child.exited.wait(_REPORT_GRACE_S if outcome != "eof" else _DEATH_WAIT_S)
        child.close()
        return WorkOutcome(outcome, None, death=child.death)

    # -- start-up self-test ------------------------------------------------------------

    def selftest(self) -> dict[str, str]:
        """Run the forbidden-action probes in a confined child; refuse to serve if any succeeds.

        With confinement disabled (development only) nothing would be refused, so the
        probes are not run at all; that choice is logged loudly instead.
        """
        if not self.config.confinement.enabled:
            log.warning(
                "INSECURE: confinement is disabled (development only): children run "
                "unconfined and the start-up self-test is skipped"
            )
            return {}
        started = time.monotonic()
        child = self._acquire(None, started + 30)
        frame = marshal.dumps((b"", {"op": "selftest", "deadline_ms": _SELFTEST_DEADLINE_MS}))
        try:
            child.channel.setblocking(True)
            child.channel.sendall(protocol.encode_frame(frame))
            child.channel.setblocking(False)
            outcome, payload = await_reply(child.channel, started + _SELFTEST_DEADLINE_MS / 1000, 1 << 20)
            child.kill(strict=True)
        finally:
            child.kill()
            child.close()
        if outcome != "reply" or payload is None:  # a reply always has its payload
            raise ConfinementUnavailable("self-test", f"the probe child did not reply ({outcome})")
        probes: dict[str, str] = json.loads(payload).get("probes", {})  # checked by check_probe_results
        check_probe_results(probes)
        log.info("confinement self-test passed: %d forbidden actions refused", len(probes))
        return probes


# Calls the supervisor stopped for a reason of its own: how long to wait for the exit
# report, and the error the result carries.
_STOPPED = {
    "cancelled": (_REPORT_GRACE_S, "Cancelled", "the caller went away; the tool was stopped"),
    "protocol": (_DEATH_WAIT_S, "ProtocolError", "the tool's process broke the channel protocol and was killed"),
}

_REUSABLE = frozenset({Status.OK, Status.RUNTIME_ERROR, Status.INVALID_RETURN, Status.NOT_FOUND})
