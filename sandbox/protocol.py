"""Framing on the one channel between the supervisor and a child.

A frame is a 4-byte big-endian length followed by the payload. The supervisor -> child
direction carries ``marshal.dumps((code_bytes, request))`` for a job, the request being
plain data of exact builtin types (a call's state among them: trusted data, so marshal,
about 15x cheaper than JSON both ways), and JSON for the answer to a child's request. The child -> supervisor direction
carries one kind byte and JSON, never anything the supervisor would unmarshal or
unpickle: ``ANSWER`` ends the call with its outcome; ``REQUEST`` asks the supervisor for
a service during the call (outbound HTTP), and the child then blocks until the
supervisor writes the response frame; ``NOTE`` tells the supervisor something and
expects no response (a compile worker names the file it starts). ``read_frame`` enforces a size cap so a child
cannot make the supervisor buffer an unbounded frame.
"""

from __future__ import annotations

import os
import socket
import struct

ANSWER = b"A"
REQUEST = b"Q"
NOTE = b"N"

# Exit codes of a child that could not answer, which the supervisor's verdicts read.
EXIT_OK = 0
EXIT_MEMORY = 3  # MemoryError past the point where an answer could be built
EXIT_INTERNAL = 4

_HEADER = struct.Struct(">I")
HEADER_SIZE = _HEADER.size


class FrameTooLarge(Exception):
    """The peer announced a frame longer than the reader allows."""

    def __init__(self, announced: int, cap: int):
        super().__init__(f"frame of {announced} bytes exceeds the cap of {cap} bytes")
        self.announced = announced
        self.cap = cap


def encode_frame(payload: bytes) -> bytes:
    return _HEADER.pack(len(payload)) + payload


def write_frame(fd: int, *parts: bytes) -> None:
    """Write one frame, whose payload is ``parts`` one after the other, to a blocking fd,
    handling short writes. The parts are never joined: a state's JSON is not copied again."""
    views = [memoryview(_HEADER.pack(sum(map(len, parts))))] + [memoryview(p) for p in parts if len(p)]
    while views:
        written = os.writev(fd, views)
        while written:
            if written >= len(views[0]):
                written -= len(views.pop(0))
            else:
                views[0] = views[0][written:]
                written = 0


def send_frame(sock: socket.socket, payload: bytes) -> None:
    """Write one frame to a blocking socket without copying ``payload`` behind a header."""
    header = _HEADER.pack(len(payload))
    sent = sock.sendmsg([header, payload])
    if sent < len(header):
        sock.sendall(header[sent:])
        sent = len(header)
    sock.sendall(memoryview(payload)[sent - len(header) :])


def _read_exact(fd: int, size: int) -> bytearray | None:
    """``size`` bytes read into one buffer (no chunks to join), or None on EOF before them."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        count = os.readv(fd, [view[got:]])
        if not count:
            return None
        got += count
    return buffer


def read_frame(fd: int, cap: int) -> bytearray | None:
    """Read one frame from a blocking fd. None on a clean EOF before the header.

    Raises FrameTooLarge when the announced length exceeds ``cap``, and EOFError when
    the peer closed mid-frame.
    """
    header = _read_exact(fd, HEADER_SIZE)
    if header is None:
        return None
    (length,) = _HEADER.unpack(header)
    if length > cap:
        raise FrameTooLarge(length, cap)
    payload = _read_exact(fd, length)
    if payload is None:
        raise EOFError("channel closed mid-frame")
    return payload
