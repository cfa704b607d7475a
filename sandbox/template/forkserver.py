"""The template process: import the child runtime once, confine once, fork children.

The pool starts it with ``python -I -m sandbox.template FD`` (``__main__.py``) in an empty
environment, passing one end of a SOCK_SEQPACKET socketpair as fd FD. It never imports
grpc and never runs tool code: its verbs are spawn and reap.

Protocol on the control socket (one JSON message per packet):

    pool -> template  {"op": "configure", "confinement": {...}, "limits": {...}}
                      {"op": "spawn", "count": n, "max_calls": k, "warm": bool, "purpose": "call"|"compile"}
    template -> pool  {"op": "ready", "pid": ..}                 after prepare_template
                      {"op": "fatal", "feature": .., "detail": ..}
                      {"op": "child", "pid": .., "uid": .., "purpose": ..}   with fds [channel, pidfd]
                      {"op": "exit", "pid": .., "signal": .., "code": .., "cpu_ms": .., "peak_rss_bytes": ..}

Each child is forked, confines itself (``sandbox.confine.child_side.confine_child``), then serves
its channel (``sandbox.child.entry.serve``). The template reaps every child and reports
the kernel's exit status and rusage, which the pool trusts over anything a child says.
When the pool goes away (EOF on the control socket) the template kills its children and exits.
"""

from __future__ import annotations

# sandbox/template/__main__.py has called atfork.forget() before this module is imported.
import ctypes
import gc
import json
import marshal
import os
import random
import selectors
import signal
import socket
import sys
from typing import Any

from sandbox.child import entry
from sandbox.compile import worker as compile_worker
from sandbox.confine.child_side import confine_child
from sandbox.confine.config import ConfinementConfig, Prepared
from sandbox.confine.template_side import prepare_template
from sandbox.errors import ConfinementUnavailable
from sandbox.policy import Limits

_PR_SET_PDEATHSIG = 1

WARMUP_SOURCE = """\
import datetime
def warmup(conv: Conversation, name: str = "x"):
    conv.state.seen = [conv.state.get("n", 0), conv.variant.site_name, conv.sip_headers.get("X-A")]
    conv.state.day = datetime.datetime(2024, 1, 1).strftime("%A")
    log.info(f"warm {name}")
    return {"utterance": "hi", "listen": {"asr": {"timeout": 1}}}
"""


def _warmup_frame() -> bytes:
    """A trivial call every child runs once before it is ready (a child frame).

    Compiled here, from the project's own source, so that the supervisor never imports
    the compiler: tenants' code is compiled in confined processes (sandbox/supervisor/confined_compile.py).
    """
    from sandbox.compile.compiler import compile_bundle
    from sandbox.supervisor import call as call_mod

    request = call_mod.CallRequest(
        tenant="toolpool-warmup",
        bundle=compile_bundle({"warmup.py": WARMUP_SOURCE}),
        function="warmup",
        input=call_mod.validate_input(
            {"state": {"n": 1}, "variants": {"a": {"site_name": "A"}}, "variant": "a", "sip_headers": {"X-A": "1"}},
            {"name": "y"},
        ),
    )
    return call_mod.prepare(request).frame()


def _send(ctl: socket.socket, message: dict[str, object], fds: list[int] | None = None) -> None:
    data = json.dumps(message).encode()
    if fds:
        socket.send_fds(ctl, [data], fds)
    else:
        ctl.send(data)


class Template:
    # Set by configure(), which main() calls before run(), the only way to spawn.
    confinement: ConfinementConfig
    prepared: Prepared
    warmup: bytes

    def __init__(self, ctl: socket.socket):
        self.ctl = ctl
        self.children: set[int] = set()
        self.next_uid = 0
        self.limits = Limits()

    # -- verbs -------------------------------------------------------------------------

    def configure(self, message: dict[str, Any]) -> None:
        self.limits = Limits(**message["limits"])
        self.confinement = ConfinementConfig(**message["confinement"])
        # The deadline timer must kill outright in every child: the default action.
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        # prepare_template imports DEFAULT_PRELOAD (the modules Python imports
        # lazily on first use) before the filesystem goes away.
        warmup = _warmup_frame()  # imports the compiler while there is a filesystem
        entry.prepare_process()  # once every runtime module is imported
        self.prepared = prepare_template(self.confinement)
        self.warmup = warmup
        for _ in range(3):
            self._warm()  # lazily built caches are built once, here, for every child
        gc.collect()
        gc.freeze()  # children then leave the template's objects' pages unshared-untouched

    def spawn(self, count: int, max_calls: int, warm: bool = True, purpose: str = "call") -> None:
        for done in range(count):
            try:
                self._spawn_one(max_calls, warm, purpose)
            except OSError as exc:  # no process or descriptor left (EAGAIN, EMFILE): say so, keep serving
                _send(self.ctl, {"op": "spawn_failed", "count": count - done, "error": str(exc), "purpose": purpose})
                return

    def _spawn_one(self, max_calls: int, warm: bool, purpose: str) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        uid = self.confinement.uid_base + self.next_uid % self.confinement.uid_count
        self.next_uid += 1
        pid = os.fork()
        if pid == 0:
            self._become_child(theirs.fileno(), uid, max_calls, warm, purpose)
        theirs.close()
        pidfd = os.pidfd_open(pid)
        self.children.add(pid)
        try:
            _send(self.ctl, {"op": "child", "pid": pid, "uid": uid, "purpose": purpose}, [ours.fileno(), pidfd])
        finally:
            ours.close()
            os.close(pidfd)

    def _warm(self) -> None:
        code, request = marshal.loads(self.warmup)  # afresh each time: run_request owns it
        entry.run_request(request, code)

    def _become_child(self, channel_fd: int, uid: int, max_calls: int, warm: bool, purpose: str) -> None:
        """Runs in the forked child; never returns.

        The template's SIGCHLD handler and wakeup fd are inherited but inert: a child
        can create no process, so no SIGCHLD ever reaches it.
        """
        code = entry.EXIT_INTERNAL
        try:
            # Forked children must not share the template's PRNG state. This is the one
            # at-fork hook the template keeps (sandbox/template/atfork.py), so it is done here.
            random.seed()
            confine_child(self.prepared, uid=uid, keep_fds=[channel_fd], limits=self.limits)
            # One call before the real one takes the copy-on-write page faults of the
            # runtime's first use (about 0.8 ms here) off the critical path, unless the
            # pool asked for cold children because calls are waiting (Pool._top_up). A
            # child kept for compiles runs a small compile instead (about 1.6 ms).
            if warm and purpose == "compile":
                compile_worker.warm()
            elif warm:
                self._warm()
            entry.serve(channel_fd, max_calls=max_calls)
            code = entry.EXIT_OK
        except MemoryError:
            code = entry.EXIT_MEMORY
        finally:
            os._exit(code)

    def reap(self) -> None:
        while self.children:
            try:
                pid, status, ru = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            self.children.discard(pid)
            _send(
                self.ctl,
                {
                    "op": "exit",
                    "pid": pid,
                    "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                    "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                    "cpu_ms": (ru.ru_utime + ru.ru_stime) * 1000.0,
                    "peak_rss_bytes": ru.ru_maxrss * 1024,
                },
            )

    def kill_children(self) -> None:
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in list(self.children):
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        self.children.clear()

    # -- loop --------------------------------------------------------------------------

    def run(self) -> None:
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        sel = selectors.DefaultSelector()
        sel.register(self.ctl, selectors.EVENT_READ, "ctl")
        sel.register(wake_r, selectors.EVENT_READ, "chld")
        while True:
            for key, _ in sel.select():
                if key.data == "chld":
                    while True:
                        try:
                            if not os.read(wake_r, 4096):
                                break
                        except BlockingIOError:
                            break
                    self.reap()
                    continue
                data = self.ctl.recv(1 << 16)
                if not data:
                    self.kill_children()
                    return
                message = json.loads(data)
                if message["op"] == "spawn":
                    self.spawn(
                        int(message["count"]),
                        int(message["max_calls"]),
                        bool(message.get("warm", True)),
                        "compile" if message.get("purpose") == "compile" else "call",
                    )
            self.reap()


def main() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # die with the pool
    ctl = socket.socket(fileno=int(sys.argv[1]))
    template = Template(ctl)
    message = json.loads(ctl.recv(1 << 16))
    try:
        template.configure(message)
    except ConfinementUnavailable as exc:
        _send(ctl, {"op": "fatal", "feature": exc.feature, "detail": exc.detail})
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - reported to the pool, which refuses to start
        _send(ctl, {"op": "fatal", "feature": "template", "detail": f"{type(exc).__name__}: {exc}"})
        sys.exit(1)
    _send(ctl, {"op": "ready", "pid": os.getpid()})
    try:
        template.run()
    except (BrokenPipeError, ConnectionResetError):
        template.kill_children()  # the pool went away while we were talking to it
