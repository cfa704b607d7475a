"""Outbound HTTP for tools, on the supervisor's side: the egress policy and the fetch.

Runs in the trusted supervisor (the server or the CLI), in the thread that runs the call,
while the child waits for the answer. Trusts the ``EgressPolicy`` (the service builds it
from the tenant's stored policy plus its own ports; the CLI from its flags) and the
resolver it names. Trusts nothing in a child's request: every field is checked again
here, whatever ``sandbox/child/http.py`` checked before sending it. Trusts nothing the
remote side sends either: the tenant chose it, so it is untrusted like the tool.

One request (``fetch.serve``), with the error kind each step can end in:

    check the child's request: method, URL, headers, body, timeout    invalid_request/_url/_header
    no policy; the call's cap on requests                             refused, request_limit
    for each hop (the URL, then each redirect it is allowed to follow):
      parse the URL strictly; a rule must allow (scheme, host, port)  invalid_url, refused
      resolve the host once, within the deadline                       connection, connect_timeout
      check EVERY resolved address (never-reachable ranges, this
        host's own addresses, the service's own ports) unless the
        policy names it                                                refused
      connect to a checked address; Host, SNI and the certificate
        check use the hostname, never a second lookup                  connect_timeout, ssl, connection
      send, read status and headers; a redirect starts the next hop    read_timeout, too_many_redirects
      read the body within the call's byte cap                         too_large, read_timeout
    one log record per hop (method, host, status, time); usage counters

The files, each importing only those listed above it:

    errors.py       the error kinds (``KINDS``), ``EgressError``, and ``EgressRecord``, what
                    one call's requests did (counts and log lines)
    addresses.py    facts about addresses, before any policy: the never-reachable ranges,
                    the IPv4 address a mapped or NAT64 address carries, this host's own
    reads.py        bounds on what the remote side sends, counted at the socket
    connection.py   sockets that never wait past the request deadline, the TLS context,
                    and the connection pinned to one checked address
    policy.py       the tenant's policy as frozen data, its decisions (which rule allows
                    a URL, why an address may not be reached), and policies from CLI flags
    request.py      the child's request checked field by field: method, URL, headers, body
    fetch.py        ``serve``: resolution, the address checks, hops and redirects, the
                    answer, the log lines, and the request deadline

This module re-exports nothing: import each name from the file that defines it.
"""
