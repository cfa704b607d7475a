"""The supervisor's handle on one confined child, and the wait for its answer.

Runs in the trusted server (or CLI) process, beside ``pool.py``, which decides what to
do with a child; this module only holds one and talks to it. A ``Child`` is made when
the template hands over the child's channel and pidfd (``template_control.py``) and
lives until the pool closes both.

Whatever the child sends is hostile. ``await_reply`` reads its frames with a cap on
each, never past the deadline, and hands a mid-call request to a callback that must
parse it with the same care. A child is stopped with SIGKILL through its pidfd, which
names that process and never a recycled pid, and which a tool cannot catch or block.
Its usage figures come from the kernel (``/proc/PID/schedstat`` and ``VmHWM``), never
from the child.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import socket
import threading
import time
from collections.abc import Callable

from sandbox import protocol
from sandbox.errors import ConfinementUnavailable
from sandbox.policy import Limits
from sandbox.supervisor import verdict

log = logging.getLogger("toolpool.pool")

_CANCEL_POLL_S = 0.05  # how soon a caller's departure is noticed

# What a reused child serves (reuse mode): its tenant, bundle version, tool file, policy
# fingerprint and limits (``Pool.execute``).
ReuseKey = tuple[str, str, str, str, Limits]


class Child:
    """The supervisor's handle on one child: its channel, its pidfd, its fate."""

    def __init__(self, pid: int, uid: int, channel: socket.socket, pidfd: int, generation: int):
        self.pid = pid
        self.uid = uid
        self.channel = channel
        self.pidfd = pidfd
        self.generation = generation
        self.calls = 0
        self.key: ReuseKey | None = None
        self.last_used = time.monotonic()
        self.exited = threading.Event()
        self.death: verdict.Death | None = None
        self.dropped = False  # found dead while ready: closed when its exit report comes
        self.tenant: str | None = None  # whose CPU group it is in (sandbox/supervisor/cgroups.py)
        # kill() and close() may race (a deadline vs. pool shutdown); a closed pidfd's
        # number could be reused by another child's pidfd, so both hold this lock.
        self._fd_lock = threading.Lock()

    def kill(self, *, strict: bool = False) -> None:
        """SIGKILL through the pidfd: it names this process, never a recycled pid.

        ``strict``: raise ConfinementUnavailable when the kill is not permitted (the
        start-up self-test proves the supervisor can stop its children).
        """
        with self._fd_lock:
            if self.pidfd < 0:
                return
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass
            except PermissionError as exc:
                # Children run as other uids: without CAP_KILL the supervisor cannot stop
                # them. The deployment must grant it (README: production host).
                if strict:
                    raise ConfinementUnavailable(
                        "capabilities", "the server cannot signal its confined children (CAP_KILL)"
                    ) from exc
                log.critical("cannot kill child %d: the server lacks CAP_KILL", self.pid)

    def has_exited(self) -> bool:
        """True once the process has ended, whether or not the template's report came: a
        pidfd polls readable from the moment its process exits (a few microseconds)."""
        with self._fd_lock:
            if self.pidfd < 0:
                return True
            poller = select.poll()
            poller.register(self.pidfd, select.POLLIN)
            return bool(poller.poll(0))

    def close(self) -> None:
        with self._fd_lock:
            self.channel.close()
            if self.pidfd >= 0:
                os.close(self.pidfd)
                self.pidfd = -1

    def kernel_usage(self) -> tuple[float, int]:
        """CPU ms and peak RSS bytes of a live child, from the kernel."""
        try:
            with open(f"/proc/{self.pid}/schedstat", "rb") as f:
                cpu_ms = int(f.read().split()[0]) / 1e6
            with open(f"/proc/{self.pid}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"VmHWM:"):
                        return cpu_ms, int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
        return 0.0, 0


def await_reply(
    channel: socket.socket,
    deadline: float,
    cap: int,
    on_request: Callable[[bytes], bytes] | None = None,
    cancelled: threading.Event | None = None,
    on_note: Callable[[bytes], bool] | None = None,
) -> tuple[str, bytearray | None]:
    """Wait for the child's answer frame until the deadline.

    A REQUEST frame on the way is handed to ``on_request`` and its response written
    back, a NOTE frame to ``on_note``; the wait goes on. Returns ("reply", payload), ("eof", None), ("deadline", None),
    ("overrun", None) for a frame over ``cap``, or ("protocol", None) for a frame of
    an unknown kind or a request nobody serves.
    """
    poller = select.poll()
    poller.register(channel.fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)
    # Header, then body, each read into a buffer of its size: no chunks to join (issue 18).
    header, body, got = bytearray(protocol.HEADER_SIZE), None, 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "deadline", None
        if cancelled is not None:
            if cancelled.is_set():
                return "cancelled", None
            remaining = min(remaining, _CANCEL_POLL_S)
        if not poller.poll(max(remaining * 1000.0, 0.0)):
            continue
        target = header if body is None else body
        try:
            count = channel.recv_into(memoryview(target)[got:])
        except BlockingIOError:
            continue
        except OSError:
            return "eof", None
        if not count:
            return "eof", None
        got += count
        if got < len(target):
            continue
        got = 0
        if body is None:
            length = int.from_bytes(header, "big")
            if length > cap:
                return "overrun", None
            if not length:
                return "protocol", None  # a frame without even a kind
            body = bytearray(length)
            continue
        kind, payload, body = bytes(body[:1]), body, None
        del payload[:1]  # O(1) for a bytearray: the payload stays where it was read
        if kind == protocol.ANSWER:
            return "reply", payload
        if kind == protocol.NOTE and on_note is not None:
            if not on_note(bytes(payload)):
                return "protocol", None
            continue
        if kind != protocol.REQUEST or on_request is None:
            return "protocol", None
        try:
            channel.setblocking(True)
            channel.settimeout(max(deadline - time.monotonic(), 0.001))
            channel.sendall(protocol.encode_frame(on_request(bytes(payload))))
        except OSError:
            return "eof", None
        finally:
            channel.setblocking(False)


def death_cause(death: verdict.Death | None) -> str:
    """A metrics label for how a child that gave no answer ended."""
    if death is None:
        return "unreported"
    if death.signal is not None:
        try:
            return signal.Signals(death.signal).name.lower()
        except ValueError:
            return f"signal{death.signal}"
    return "exit" if death.exit_code == 0 else f"exit{death.exit_code}"
