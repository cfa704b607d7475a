"""Every read in egress that the remote side controls, attacked by a raw server that sends
whatever bytes it likes (issue 16). Each case asserts the refusal names what was exceeded
AND evidence outside the verdict: the bytes the supervisor received (the call's record,
counted at the socket) and the bytes the hostile server could not get read.
Security tests: they never skip."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from sandbox.egress import reads
from sandbox.egress.errors import EgressRecord
from sandbox.egress.policy import EgressPolicy
from sandbox.result import Status
from tests.egress.conftest import API, run_tool
from tests.egress.servers import Resolver
from tests.egress.test_fetch import ask

pytestmark = pytest.mark.system  # hostile servers on loopback

OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"


class RawServer:
    """Answers every connection with the bytes ``script()`` yields, counting what the
    kernel accepted from it (``sent``): the flood the supervisor was offered."""

    def __init__(self, script: Callable[[], Iterator[bytes]]):
        self.script = script
        self.sent = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(10)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.listener.getsockname()[1]

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(10)
            try:
                conn.recv(65536)  # the request
                for piece in self.script():
                    conn.sendall(piece)
                    self.sent += len(piece)
            except OSError:
                return  # the supervisor stopped reading and closed: what the flood is for

    def close(self) -> None:
        self.listener.close()
        self.thread.join(10)


def policy_for(server: RawServer, *, cap: int = 2 * 1024 * 1024) -> EgressPolicy:
    return (
        EgressPolicy()
        .with_address("127.0.0.1")
        .with_host(API, ports=[server.port], schemes=["http"])
        .with_resolver(Resolver({API: ["127.0.0.1"]}))
        .with_limits(max_response_bytes=cap)
    )


def fetch(script: Callable[[], Iterator[bytes]], *, cap: int = 2 * 1024 * 1024, deadline_s: float = 10.0):
    server = RawServer(script)
    record = EgressRecord()
    try:
        answer = ask(policy_for(server, cap=cap), f"http://{API}:{server.port}/x", record=record, deadline_s=deadline_s)
    finally:
        server.close()
    return answer, record, server


def repeat(piece: bytes, times: int, head: bytes = b"", tail: bytes = b"") -> Callable[[], Iterator[bytes]]:
    def script() -> Iterator[bytes]:
        if head:
            yield head
        batch = piece * max(1, 65536 // max(len(piece), 1))
        for _ in range(max(1, times * len(piece) // len(batch))):
            yield batch
        if tail:
            yield tail

    return script


FLOOD = 17 * 1024 * 1024  # what the red team's upstream sent past a 2 MiB cap


def assert_refused(answer, record, server, words: str, *, read_at_most: int) -> None:
    assert answer["ok"] is False and answer["kind"] == "too_large", answer
    assert words in answer["error"], answer["error"]
    assert record.response_bytes <= read_at_most, record.response_bytes
    assert server.sent < FLOOD  # the flood was cut off, not read to its end


def test_a_flood_of_interim_responses_stops_at_ten():
    answer, record, server = fetch(repeat(b"HTTP/1.1 100 Continue\r\n\r\n", FLOOD // 25))
    assert_refused(answer, record, server, "sent more than 10 interim (1xx) responses", read_at_most=64 * 1024)


def test_interim_responses_count_against_the_response_cap():
    # Under ten interim responses, each with headers: together past the call's 64 KiB cap.
    big_interim = b"HTTP/1.1 100 Continue\r\n" + b"X-Pad: " + b"p" * 6000 + b"\r\n" * 1 + b"\r\n"
    answer, record, _server = fetch(
        repeat(big_interim, 9, tail=OK_HEAD + b"Content-Length: 2\r\n\r\nok"), cap=32 * 1024
    )
    assert answer["ok"] is False and answer["kind"] == "too_large"
    assert "goes past it" in answer["error"] or "bytes of status lines and headers" in answer["error"]
    assert record.response_bytes <= 32 * 1024 + 1


def test_header_count_is_bounded():
    answer, record, server = fetch(repeat(b"X-H: 1\r\n", 1_000_000, head=OK_HEAD))
    assert_refused(answer, record, server, "sent more than 100 header lines", read_at_most=64 * 1024)


def test_a_header_line_longer_than_8_kib_is_refused():
    answer, record, server = fetch(repeat(b"a", FLOOD, head=OK_HEAD + b"X-Long: "))
    assert_refused(
        answer, record, server, "sent a status or header line longer than 8192 bytes", read_at_most=64 * 1024
    )


def test_a_status_line_without_end_is_refused():
    answer, record, server = fetch(repeat(b"H", FLOOD))
    assert_refused(answer, record, server, "longer than 8192 bytes", read_at_most=64 * 1024)


def test_header_bytes_in_total_are_bounded():
    answer, record, _server = fetch(repeat(b"X-H: " + b"v" * 4000 + b"\r\n", 90, head=OK_HEAD, tail=b"\r\nbody"))
    assert answer["ok"] is False and "sent more than 65536 bytes of status lines and headers" in answer["error"]
    assert record.response_bytes <= 128 * 1024


def test_a_chunk_size_line_longer_than_4_kib_is_refused():
    head = OK_HEAD + b"Transfer-Encoding: chunked\r\n\r\n1;ext="
    answer, record, server = fetch(repeat(b"e", FLOOD, head=head))
    assert_refused(
        answer, record, server, "sent a chunk-size or trailer line longer than 4096 bytes", read_at_most=64 * 1024
    )


def test_a_flood_of_trailers_stops_at_64():
    head = OK_HEAD + b"Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n"
    answer, record, server = fetch(repeat(b"X-Trailer: t\r\n", FLOOD // 14, head=head))
    assert_refused(answer, record, server, "sent more than 64 trailer lines", read_at_most=64 * 1024)


def test_tiny_chunks_count_their_framing_against_the_cap():
    head = OK_HEAD + b"Transfer-Encoding: chunked\r\n\r\n"
    answer, record, server = fetch(repeat(b"1\r\nx\r\n", FLOOD // 6, head=head), cap=256 * 1024)
    assert_refused(answer, record, server, "goes past it", read_at_most=256 * 1024 + 1)


def test_an_honest_chunked_response_with_trailers_is_read_whole():
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (b"hello ", b"world"))
    answer, record, server = fetch(
        lambda: iter([OK_HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + body + b"0\r\nX-Checksum: 1\r\n\r\n"])
    )
    assert answer["ok"] and answer["body"] == b"hello world"
    assert record.response_bytes == server.sent  # every byte received was counted, no more


def test_a_slow_drip_of_interim_responses_ends_at_the_deadline():
    def drip() -> Iterator[bytes]:
        for _ in range(100):
            yield b"HTTP/1.1 100 Continue\r\n"[:5]
            time.sleep(0.2)

    started = time.monotonic()
    answer, _record, _server = fetch(drip, deadline_s=1.0)
    assert answer["ok"] is False and answer["kind"] == "read_timeout"
    assert "before the call's deadline" in answer["error"]
    assert time.monotonic() - started < 5.0  # the drip would have taken 20 s


# -- DNS ---------------------------------------------------------------------------------


def test_a_lookup_with_too_many_answers_is_refused():
    many = [f"127.0.{i // 250}.{i % 250 + 1}" for i in range(500)]
    policy = (
        EgressPolicy().with_address("127.0.0.0/8").with_host(API, schemes=["http"]).with_resolver(Resolver({API: many}))
    )
    answer = ask(policy, f"http://{API}/x")
    assert answer["ok"] is False and answer["kind"] == "connection"
    assert f"{API} resolves to 500 answers; at most 32 addresses are accepted" in answer["error"]


def test_a_lookup_that_never_answers_ends_at_its_own_limit(monkeypatch):
    monkeypatch.setattr("sandbox.egress.fetch.MAX_LOOKUP_S", 0.3)
    release = threading.Event()

    def stuck(host: str, port: int) -> list[str]:
        release.wait(10)
        return ["127.0.0.1"]

    policy = EgressPolicy().with_address("127.0.0.1").with_host(API, schemes=["http"]).with_resolver(stuck)
    try:
        answer = ask(policy, f"http://{API}/x", deadline_s=10.0)
    finally:
        release.set()
    assert answer["ok"] is False and answer["kind"] == "connect_timeout"
    assert answer["error"].endswith(f"resolving {API} took more than 0.3 s")


# -- in a tool: the exception names what was exceeded ------------------------------------


def test_a_tool_sees_which_bound_its_upstream_broke(pool):
    server = RawServer(repeat(b"HTTP/1.1 100 Continue\r\n\r\n", FLOOD // 25))
    source = f"""
import requests
def tool(conv):
    try:
        requests.get("http://{API}:{server.port}/x")
    except requests.ResponseTooLarge as e:
        return {{"content": "ResponseTooLarge: " + str(e)}}
    return {{"content": "read it all"}}
"""
    try:
        result = run_tool(pool, source, egress=policy_for(server))
    finally:
        server.close()
    assert result.status is Status.OK, result.error
    assert result.action["content"] == (
        f"ResponseTooLarge: the response from {API} sent more than "
        f"{reads.MAX_INTERIM_RESPONSES} interim (1xx) responses"
    )
    assert result.usage.http_bytes <= 64 * 1024


@pytest.mark.parametrize(
    "name",
    ["MAX_INTERIM_RESPONSES", "MAX_HEADERS", "MAX_HEADER_LINE", "MAX_HEAD_BYTES", "MAX_BODY_LINE", "MAX_TRAILERS"],
)
def test_every_bound_is_below_what_http_client_allows(name):
    import http.client

    value = getattr(reads, name)
    assert 0 < value <= {"MAX_HEADERS": http.client._MAXHEADERS}.get(name, http.client._MAXLINE)
