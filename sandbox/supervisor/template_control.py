"""The pool's dealings with its template process: start it, read its reports, replace it.

Runs in the trusted server (or CLI) process, on the pool's manager thread, and never
runs tool code. ``TemplateControl`` is the base class of ``Pool`` (``pool.py``): the
pool decides which children it wants and hands them to calls; this half starts
``python -I -m sandbox.template`` in an empty environment, configures it over a
SOCK_SEQPACKET socket, and turns what the template reports into the pool's books: a
child arrived with its channel and pidfd (``children.Child``), a child exited (the
kernel's status and rusage, which the pool trusts over anything a child says), a spawn
failed, the template died (its children die with it). ``sandbox/template/forkserver.py``
lists the messages.

The template is trusted, but it is another process, which can die or misbehave at any
moment: a report that cannot be handled replaces the template rather than the thread
that reads it, and a template that dies is replaced at once.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import logging
import os
import queue
import signal
import socket
import subprocess
import threading
import time
from typing import Any, Protocol

from sandbox.confine.config import ConfinementConfig
from sandbox.errors import ConfinementUnavailable
from sandbox.policy import Limits
from sandbox.supervisor import verdict
from sandbox.supervisor.cgroups import TenantGroups
from sandbox.supervisor.children import Child, ReuseKey

log = logging.getLogger("toolpool.pool")


class TemplateSettings(Protocol):
    """What starting a template reads of the pool's configuration (``PoolConfig``)."""

    @property
    def python(self) -> str: ...
    @property
    def confinement(self) -> ConfinementConfig: ...

    def ceiling_limits(self) -> Limits: ...


class TemplateControl:
    """``Pool``'s half that talks to the template; all of it runs on the manager thread.

    A base class rather than an object of its own because each report changes the same
    books as the pool's calls do, under the same lock. ``Pool.__init__`` sets them up,
    and every change holds ``_lock``: the live children by pid, those ready for a call or
    for a compile, the idle ones (reuse mode), how many are on the way. How many children
    the pool wants is the pool's to decide (``_top_up``, ``_top_up_compiles``); they ask
    the template on ``_ctl``.
    """

    config: TemplateSettings
    counters: collections.Counter[str]
    cgroups: TenantGroups
    _lock: threading.Condition
    _closed: bool
    _ctl: socket.socket | None
    _template: subprocess.Popen[bytes] | None
    _generation: int
    _children: dict[int, Child]
    _ready: collections.deque[Child]
    _compile_ready: collections.deque[Child]
    _idle: dict[ReuseKey, list[Child]]
    _spawning: int
    _compile_spawning: int

    def _top_up(self, urgent: bool = True) -> None:
        """Ask the template for children for calls, as many as the pool wants (``Pool``)."""
        raise NotImplementedError

    def _top_up_compiles(self) -> None:
        """Ask the template for children for compiles, as many as the pool wants (``Pool``)."""
        raise NotImplementedError

    def _manage(self, first: queue.Queue[BaseException | None] | None) -> None:
        """Start, read and restart the template, all from this one thread.

        The template asks for PR_SET_PDEATHSIG, which fires when the THREAD that forked
        it exits; so the thread that starts a template must outlive it. A template
        that dies is replaced at once, with a back-off if replacements keep failing.
        """
        failures = 0
        while not self._closed:
            try:
                ctl, proc = self._start_template()
            except (ConfinementUnavailable, OSError) as exc:  # OSError: no fd or process left (EMFILE, EAGAIN)
                if first is not None:
                    first.put(
                        exc
                        if isinstance(exc, ConfinementUnavailable)
                        else ConfinementUnavailable("template", f"cannot start it: {exc}")
                    )
                    return
                failures += 1
                log.critical("cannot restart the template (attempt %d): %s", failures, exc)
                time.sleep(min(0.1 * 2**failures, 5.0))
                continue
            if first is not None:
                first.put(None)
                first = None
            failures = 0
            with self._lock:
                if self._closed:  # close() may have run since the loop's test, on another thread
                    ctl.shutdown(socket.SHUT_RDWR)  # type: ignore[unreachable]  # mypy keeps that test's narrowing
            try:
                self._read_control(ctl, self._generation)
            except Exception:
                log.exception("the template's messages could not be handled; replacing the template")
                proc.kill()
            self._on_template_lost(ctl, proc, self._generation)

    def _start_template(self) -> tuple[socket.socket, subprocess.Popen[bytes]]:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cmd = [self.config.python, "-I", "-m", "sandbox.template", str(theirs.fileno())]
        # An empty environment: nothing of the server's reaches /proc/self/environ.
        # subprocess forks with vfork/exec in C, never running Python in the child, so
        # it is safe beside the gRPC server's threads. Its own session: a terminal's Ctrl-C
        # (SIGINT to the foreground process group) reaches the supervisor alone, which then
        # closes the pool in order, instead of killing the template under a spawn in flight.
        # The template still dies with this process (PR_SET_PDEATHSIG).
        proc = subprocess.Popen(
            cmd,
            env={},
            cwd="/",
            stdin=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),),
            close_fds=True,
            start_new_session=True,
        )
        theirs.close()
        configure = {
            "op": "configure",
            "confinement": dataclasses.asdict(self.config.confinement),
            "limits": dataclasses.asdict(self.config.ceiling_limits()),
        }
        ours.send(json.dumps(configure).encode())
        ours.settimeout(30)
        try:
            reply = json.loads(
                ours.recv(1 << 16)
                or b'{"op": "fatal", "feature": "template", "detail": "the template exited during start-up"}'
            )
        except (OSError, ValueError) as exc:
            proc.kill()
            proc.wait()
            ours.close()
            raise ConfinementUnavailable("template", f"no answer from the template: {exc}") from exc
        if reply.get("op") != "ready":
            proc.wait(timeout=10)
            ours.close()
            raise ConfinementUnavailable(reply.get("feature", "template"), reply.get("detail", "unknown"))
        ours.settimeout(None)
        with self._lock:
            self._generation += 1
            self._ctl = ours
            self._template = proc
            self._spawning = 0
            self._compile_spawning = 0
            self._top_up()
            self._top_up_compiles()
        return ours, proc

    # -- the template's messages ---------------------------------------------------------

    def _read_control(self, ctl: socket.socket, generation: int) -> None:
        while True:
            try:
                data, fds, _flags, _addr = socket.recv_fds(ctl, 1 << 16, 2)
            except OSError:
                data, fds = b"", []
            if not data:
                break
            message = json.loads(data)
            if message["op"] == "child":
                self._on_child(message, fds, generation)
            elif message["op"] == "exit":
                self._on_exit(message)
            elif message["op"] == "spawn_failed":
                with self._lock:  # the next acquire (or compile) asks again
                    if message.get("purpose") == "compile":
                        self._compile_spawning = max(self._compile_spawning - int(message["count"]), 0)
                    else:
                        self._spawning = max(self._spawning - int(message["count"]), 0)
                    self.counters["spawn_failed"] += 1
            else:
                for fd in fds:
                    os.close(fd)

    def _on_child(self, message: dict[str, Any], fds: list[int], generation: int) -> None:
        for_compiles = message.get("purpose") == "compile"
        if len(fds) != 2:
            # The kernel could not install the descriptors here (EMFILE: MSG_CTRUNC). The
            # child sees EOF on its channel and exits; a later acquire asks for another.
            for fd in fds:
                os.close(fd)
            with self._lock:
                self._spawned(for_compiles)
                self.counters["spawn_lost"] += 1
            return
        channel = socket.socket(fileno=fds[0])
        channel.setblocking(False)
        child = Child(message["pid"], message["uid"], channel, fds[1], generation)
        with self._lock:
            self._spawned(for_compiles)
            if self._closed:
                child.kill()
                child.close()
                return
            self._children[child.pid] = child
            (self._compile_ready if for_compiles else self._ready).append(child)
            self._lock.notify_all()

    def _spawned(self, for_compiles: bool) -> None:
        """One child asked of the template came (or was lost). Holds the lock."""
        if for_compiles:
            self._compile_spawning = max(self._compile_spawning - 1, 0)
        else:
            self._spawning = max(self._spawning - 1, 0)

    def _on_exit(self, message: dict[str, Any]) -> None:
        with self._lock:
            child = self._children.pop(message["pid"], None)
            if child is None:
                return
            waiting = child in self._ready or child in self._compile_ready or child.dropped
            if child in self._ready:
                self._ready.remove(child)
                self.counters["ready_child_died"] += 1
                self._top_up()
            elif child in self._compile_ready:
                self._compile_ready.remove(child)
                self.counters["ready_child_died"] += 1
                self._top_up_compiles()
        child.death = verdict.Death(
            signal=message.get("signal"),
            exit_code=message.get("code"),
            cpu_ms=float(message.get("cpu_ms") or 0.0),
            peak_rss_bytes=int(message.get("peak_rss_bytes") or 0),
        )
        child.exited.set()
        if waiting:
            child.close()  # no call holds it, so nobody else would close its pidfd
        self.cgroups.sweep()  # a group may have emptied: idle ones go

    def _on_template_lost(self, ctl: socket.socket, proc: subprocess.Popen[bytes], generation: int) -> None:
        """The template died or was closed. Its children die with it (PDEATHSIG)."""
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        with self._lock:
            orphans = [c for c in self._children.values() if c.generation == generation]
            unused = [c for c in (*self._ready, *self._compile_ready) if c.generation == generation]
            unused += [c for idle in self._idle.values() for c in idle if c.generation == generation]
            unused += [c for c in orphans if c.dropped]
            for child in orphans:
                self._children.pop(child.pid, None)
                if child in self._ready:
                    self._ready.remove(child)
                if child in self._compile_ready:
                    self._compile_ready.remove(child)
            for key in list(self._idle):
                self._idle[key] = [c for c in self._idle[key] if c.generation != generation]
            closed = self._closed
        for child in orphans:
            child.kill()
            if not child.exited.is_set():
                child.death = verdict.Death(
                    signal=signal.SIGKILL, exit_code=None, cpu_ms=0.0, peak_rss_bytes=0, template_lost=True
                )
                child.exited.set()
        for child in unused:
            child.close()  # a call's own child is closed by the call (_after_death)
        ctl.close()
        if not closed:
            self.counters["template_restarts"] += 1
            log.error("the template process (pid %s) died; starting a new one", proc.pid)
