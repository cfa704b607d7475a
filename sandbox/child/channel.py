"""The child's channel to the supervisor, for what a call asks of it on the way.

Runs in the confined child, beside tool code. ``entry.serve`` attaches the channel fd
before it reads the first request; during a call, runtime services ask the supervisor
for work the child may not do itself (outbound HTTP: ``sandbox/child/http.py``) with
``ask_supervisor``, and a compile worker tells it which file it starts with
``send_note``. The supervisor trusts nothing it reads here: it parses each frame with a
size cap (``sandbox.supervisor.children.await_reply``) and answers within the call's
deadline, after which it kills the child whatever it is doing.

This module imports only the wire protocol, so that ``entry`` and the services it
serves can both import it (neither imports the other).
"""

from __future__ import annotations

import json
from typing import Any

from sandbox import protocol

# The request frame is written by the trusted supervisor; this cap only guards against
# a supervisor bug, not against an attacker.
REQUEST_CAP = 64 * 1024 * 1024

_channel: list[int] = []  # the channel fd while serving; set by attach


class SupervisorUnavailable(Exception):
    """The supervisor did not answer a request (no channel, or it closed)."""


def attach(channel_fd: int) -> None:
    """Make ``channel_fd`` the channel ``ask_supervisor`` and ``send_note`` write to.
    Called once by ``entry.serve``, before the first request."""
    _channel[:] = [channel_fd]


def ask_supervisor(request: dict[str, Any]) -> dict[str, Any]:
    """Send a request to the supervisor during a call and wait for its response.

    Used by runtime services such as outbound HTTP. The supervisor bounds the wait by
    the call's deadline (it kills the child at the deadline whatever it is doing).
    """
    if not _channel:
        raise SupervisorUnavailable("no supervisor channel (not running in a pool child)")
    fd = _channel[0]
    protocol.write_frame(fd, protocol.REQUEST + json.dumps(request, ensure_ascii=False).encode())
    frame = protocol.read_frame(fd, REQUEST_CAP)
    if frame is None:
        raise SupervisorUnavailable("the supervisor closed the channel")
    # A JSON object: the supervisor answers each request with one (``_ask`` in
    # sandbox/child/http.py still checks the type before it reads a key).
    answer: dict[str, Any] = json.loads(frame)
    return answer


def send_note(note: dict[str, Any]) -> None:
    """Tell the supervisor something (a NOTE frame): no answer is awaited."""
    protocol.write_frame(_channel[0], protocol.NOTE + json.dumps(note, ensure_ascii=False).encode())
