"""The channel protocol as the supervisor reads it: answers, mid-call requests, violations."""

from __future__ import annotations

import json
import socket
import threading
import time

from sandbox import protocol
from sandbox.supervisor.children import await_reply


def pair():
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    return ours, theirs


def test_answer_frame_is_the_reply():
    ours, theirs = pair()
    theirs.sendall(protocol.encode_frame(protocol.ANSWER + b'{"outcome":"returned"}'))
    assert await_reply(ours, time.monotonic() + 5, 1000) == ("reply", b'{"outcome":"returned"}')


def test_request_is_served_then_the_answer_ends_the_wait():
    ours, theirs = pair()
    seen = []

    def child():
        theirs.sendall(protocol.encode_frame(protocol.REQUEST + b'{"op":"http"}'))
        fd = theirs.fileno()
        response = protocol.read_frame(fd, 1000)
        theirs.sendall(protocol.encode_frame(protocol.ANSWER + response))

    t = threading.Thread(target=child)
    t.start()
    outcome = await_reply(ours, time.monotonic() + 5, 1000, on_request=lambda body: seen.append(body) or b'{"ok":true}')
    t.join()
    assert seen == [b'{"op":"http"}']
    assert outcome == ("reply", b'{"ok":true}')


def test_unknown_kind_and_unserved_request_are_protocol_violations():
    ours, theirs = pair()
    theirs.sendall(protocol.encode_frame(b"Z{}"))
    assert await_reply(ours, time.monotonic() + 5, 1000) == ("protocol", None)
    ours, theirs = pair()
    theirs.sendall(protocol.encode_frame(protocol.REQUEST + b"{}"))
    assert await_reply(ours, time.monotonic() + 5, 1000) == ("protocol", None)


def test_notes_are_handed_over_without_an_answer_and_a_refused_note_ends_the_wait():
    from sandbox.supervisor.confined_compile import _Progress

    ours, theirs = pair()
    progress = _Progress({"a.py": "", "b.py": ""})
    for name in ("a.py", "b.py"):
        theirs.sendall(protocol.encode_frame(protocol.NOTE + json.dumps({"op": "compiling", "file": name}).encode()))
    theirs.sendall(protocol.encode_frame(protocol.ANSWER + b"done"))
    assert await_reply(ours, time.monotonic() + 5, 1000, on_note=progress.note) == ("reply", b"done")
    assert progress.current == "b.py"
    for hostile in (
        {"op": "compiling", "file": "a.py"},  # named twice: a flood of notes stops here
        {"op": "compiling", "file": "unsent.py"},
        {"op": "other"},
        [1],
    ):
        ours, theirs = pair()
        progress = _Progress({"a.py": ""})
        progress.note(json.dumps({"op": "compiling", "file": "a.py"}).encode())
        theirs.sendall(protocol.encode_frame(protocol.NOTE + json.dumps(hostile).encode()))
        assert await_reply(ours, time.monotonic() + 5, 1000, on_note=progress.note) == ("protocol", None)
    ours, theirs = pair()  # a call's child has nothing to note
    theirs.sendall(protocol.encode_frame(protocol.NOTE + b"{}"))
    assert await_reply(ours, time.monotonic() + 5, 1000) == ("protocol", None)


def test_oversized_frame_and_eof_and_deadline():
    ours, theirs = pair()
    theirs.sendall((10_000).to_bytes(4, "big"))
    assert await_reply(ours, time.monotonic() + 5, 1000) == ("overrun", None)
    ours, theirs = pair()
    theirs.close()
    assert await_reply(ours, time.monotonic() + 5, 1000) == ("eof", None)
    ours, theirs = pair()
    started = time.monotonic()
    assert await_reply(ours, started + 0.05, 1000) == ("deadline", None)


def test_the_pool_refuses_a_service_it_does_not_offer(pool):
    from sandbox.compile.compiler import compile_bundle
    from sandbox.supervisor.call import CallRequest, prepare

    call = prepare(
        CallRequest(tenant="t", bundle=compile_bundle({"tool.py": "def tool(conv):\n    return 1\n"}), function="tool")
    )
    answer = json.loads(pool._answer_child(call, b'{"op": "nope"}', time.monotonic() + 1))
    assert answer["ok"] is False and "nope" in answer["error"]
