"""The connection to a checked address: sockets that never wait past the deadline, TLS.

Runs in the trusted supervisor, for one hop of a request (sandbox/egress/fetch.py). The
caller has checked the address against the policy; nothing here resolves a name, so the
address connected to is the address that was checked, and the hostname serves only for
the Host header, SNI and the certificate check. The remote side is untrusted: what it
sends is read within the bounds of sandbox/egress/reads.py.

Deadline: each socket operation (connect, TLS handshake, every send and every receive)
waits at most until the request deadline, the call's deadline less a reserve (a tenth of
the call's time, 20-200 ms: ``request_deadline`` in fetch.py), so a request ends before
the call does whatever the server does (a slow drip included), and the tool keeps time to
answer without it. Within that, the tool's own ``timeout=`` bounds the connect and each
wait for bytes, as in ``requests``. ``Wait`` holds both limits; every socket operation
arms it first.

Why ``http.client`` and not urllib3: urllib3's parser IS ``http.client``; what it adds
(pooling, retries, redirects, content decoding, proxy support) is what this package must
switch off or do itself, hop by hop, with checks between. Pinning the connection to the
checked address is one ``connect`` override here, and the per-operation deadline needs
our own socket classes with either. So: no new dependency in the trusted process, and
the whole path from the checked address to the bytes read is in this file and reads.py.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import socket
import ssl
import time
from typing import TYPE_CHECKING, Any, cast

from sandbox.egress.addresses import IPAddress
from sandbox.egress.reads import BoundedResponse, ResponseBudget


class Wait:
    """The limits of one hop's socket waits: the absolute request deadline, and the
    tool's ``timeout`` for each wait (None: only the deadline)."""

    __slots__ = ("budget", "deadline_bound", "per_wait", "until")

    def __init__(self, until: float, per_wait: float | None, budget: ResponseBudget | None = None):
        self.until = until
        self.per_wait = per_wait
        self.deadline_bound = False
        self.budget = budget  # the call's response bytes, counted as they are received

    def arm(self, sock: socket.socket) -> None:
        remaining = self.until - time.monotonic()
        if remaining <= 0:
            self.deadline_bound = True
            raise TimeoutError("the call's deadline")
        self.deadline_bound = self.per_wait is None or remaining <= self.per_wait
        sock.settimeout(remaining if self.deadline_bound else self.per_wait)


if TYPE_CHECKING:
    # A mixin for socket classes: to the checker it is one, so that ``super()`` is typed.
    _Socket = socket.socket
else:
    _Socket = object


class _Armed(_Socket):
    """Arms the socket's ``Wait`` before every send and receive, and counts what is
    received against the call's response budget (never asking for more than it allows)."""

    wait: Wait

    # The default size is SSLSocket.recv's, so that one signature fits both bases;
    # http.client always passes a size.
    def recv(self, size: int = 1024, *args: Any) -> bytes:
        self.wait.arm(self)
        budget = self.wait.budget
        if budget is None:
            return super().recv(size, *args)
        data = super().recv(budget.allowance(size), *args)
        budget.took(len(data))
        return data

    def recv_into(self, buffer: Any, nbytes: int | None = None, *args: Any) -> int:
        self.wait.arm(self)
        budget = self.wait.budget
        wanted = nbytes or memoryview(buffer).nbytes
        if budget is None:
            return super().recv_into(buffer, wanted, *args)
        size = super().recv_into(buffer, budget.allowance(wanted), *args)
        budget.took(size)
        return size

    def send(self, *args: Any) -> int:
        self.wait.arm(self)
        return super().send(*args)


class _TimedSocket(_Armed, socket.socket):
    """A TCP socket whose every send and receive is armed by its ``Wait`` first."""

    def sendall(self, *args: Any) -> None:
        self.wait.arm(self)  # since Python 3.5 the timeout bounds the whole sendall
        return super().sendall(*args)


class _TimedSSLSocket(_Armed, ssl.SSLSocket):
    """The TLS counterpart of ``_TimedSocket`` (an SSLContext's ``sslsocket_class``)."""

    def do_handshake(self, *args: Any) -> None:
        self.wait.arm(self)  # the handshake's own retries share this one timeout
        return super().do_handshake(*args)


@functools.lru_cache(maxsize=32)
def tls_context(ca_pem: str | None) -> ssl.SSLContext:
    """Verification on (CERT_REQUIRED, hostname check), TLS 1.2+, the system store plus
    ``ca_pem``. Cached: loading the system store costs milliseconds; never mutated."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_pem:
        context.load_verify_locations(cadata=ca_pem)
    context.set_alpn_protocols(["http/1.1"])
    context.sslsocket_class = _TimedSSLSocket
    return context


class PinnedConnection(http.client.HTTPConnection):
    """HTTP/1.1 to ``host`` over a connection to one CHECKED address.

    http.client writes the Host header from ``host``, and TLS uses ``host`` for SNI and
    for the certificate check; only ``connect`` is ours, and it never resolves a name, so
    no later lookup can swap the address that was checked. Responses are read within the
    bounds of sandbox/egress/reads.py.
    """

    response_class = BoundedResponse

    def __init__(
        self,
        host: str,
        port: int,
        default_port: int,
        address: IPAddress,
        wait: Wait,
        connect_timeout: float | None,
        tls: ssl.SSLContext | None,
    ):
        super().__init__(host, port)
        self.default_port = default_port  # the scheme's, which the Host header leaves out
        self._address = address
        self._wait = wait
        self._tls = tls
        self.connect_wait = Wait(wait.until, connect_timeout)  # connect and TLS handshake

    def connect(self) -> None:
        # An IPv4-mapped address is connected to as the IPv4 address it carries.
        address = self._address
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        connect_wait = self.connect_wait
        sock: _TimedSocket | _TimedSSLSocket = _TimedSocket(family, socket.SOCK_STREAM)
        try:
            sock.wait = connect_wait
            connect_wait.arm(sock)
            sock.connect((str(address), self.port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                # The context is tls_context's, whose sslsocket_class is _TimedSSLSocket.
                sock = cast(
                    _TimedSSLSocket,
                    self._tls.wrap_socket(sock, server_hostname=self.host, do_handshake_on_connect=False),
                )
                sock.wait = connect_wait
                sock.do_handshake()
            sock.wait = self._wait
        except BaseException:
            sock.close()
            raise
        self.sock = sock
