"""Who is calling, and may they act for this tenant.

Every ToolPool RPC carries ``authorization: Bearer <token>`` metadata. The token names an
orchestration client (``worker.config.ClientConfig``); the client is allowed a set of
tenants. With mTLS configured, a client may also be bound to its certificate's common
name, so a stolen token is useless without the matching key.

* no, malformed or unknown token, or a certificate that does not match -> UNAUTHENTICATED
* a known client acting for a tenant it is not allowed                 -> PERMISSION_DENIED
* a client that is not an operator setting an egress policy            -> PERMISSION_DENIED,
  reason OPERATOR_ONLY (a policy can open private and link-local addresses)

Only SHA-256 digests of tokens are held; a presented token is hashed and looked up, and
never logged or echoed in an error. Health and reflection are not behind this check
(probes and grpcurl must find the service without credentials).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping, Sequence

from worker.config import ClientConfig, hash_token
from worker.errors import PermissionDenied, Unauthenticated

AUTHORIZATION = "authorization"
_SCHEME = "bearer "


class Authenticator:
    def __init__(self, clients: Iterable[ClientConfig]):
        self._by_digest = {c.token_sha256: c for c in clients}

    def authenticate(
        self, metadata: Sequence[tuple[str, str | bytes]], auth_context: Mapping[str, Sequence[bytes]] | None = None
    ) -> ClientConfig:
        """The client the metadata's bearer token names. Raises Unauthenticated."""
        values = [v for k, v in metadata if k.lower() == AUTHORIZATION]
        if not values:
            raise Unauthenticated("missing 'authorization: Bearer <token>' metadata")
        if len(values) > 1:
            raise Unauthenticated("more than one authorization metadata entry")
        value = values[0]
        if isinstance(value, bytes):
            value = value.decode("ascii", "replace")
        if not value[: len(_SCHEME)].lower() == _SCHEME or not value[len(_SCHEME) :].strip():
            raise Unauthenticated("authorization metadata must be 'Bearer <token>'")
        digest = hash_token(value[len(_SCHEME) :].strip())
        client = self._by_digest.get(digest)
        # compare_digest on the hit keeps the success path constant-time as well.
        if client is None or not hmac.compare_digest(client.token_sha256, digest):
            raise Unauthenticated("unknown bearer token")
        if client.tls_common_name is not None:
            names = [n.decode("utf-8", "replace") for n in (auth_context or {}).get("x509_common_name", [])]
            if client.tls_common_name not in names:
                raise Unauthenticated(
                    f"client {client.name!r} must present a certificate for {client.tls_common_name!r}"
                )
        return client

    @staticmethod
    def authorize(client: ClientConfig, tenant: str) -> None:
        """Raises PermissionDenied unless the client may act for the tenant."""
        if not client.allows(tenant):
            raise PermissionDenied(f"client {client.name!r} may not act for tenant {tenant!r}")

    @staticmethod
    def require_operator(client: ClientConfig, what: str) -> None:
        """Raises PermissionDenied (reason OPERATOR_ONLY) unless the client is an operator."""
        if not client.operator:
            raise PermissionDenied(
                f"client {client.name!r} may not {what}: operator clients only "
                "(operator = true in the server's [[clients]])",
                reason="OPERATOR_ONLY",
            )
