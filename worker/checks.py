"""The service's checks of what callers name: tenants, aliases, versions, call ids, secret
names, and egress policies. Each failure is an ``InvalidArgument`` naming the request's
field and the rule it breaks, so a caller sees which field to fix (docs/architecture.md,
"Errors"). Nothing here touches the store or the pool.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable, Mapping
from typing import Any, cast

from sandbox.egress.policy import EgressPolicy
from worker.errors import InvalidArgument

TENANT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
ALIAS_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
SECRET_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
MAX_SECRET_NAME = 128
VERSION_RE = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
CALL_ID_RE = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
EGRESS_ENTRY_BYTES = 16 * 1024
"""Counted per cached egress policy on top of twice its data: an SSL context, patterns."""
_EGRESS_LIMITS = ("max_requests", "max_response_bytes", "max_request_bytes", "max_redirects")
_EGRESS_FIELDS = frozenset({"hosts", "addresses", "ca_pem", *_EGRESS_LIMITS})


def check_name(pattern: re.Pattern[str], value: str, field_name: str, what: str) -> str:
    if not value:
        raise InvalidArgument(field_name, "required")
    if not pattern.fullmatch(value):
        raise InvalidArgument(field_name, f"{value[:80]!r} is not a valid {what} (pattern {pattern.pattern})")
    return value


def check_secret_name(name: str) -> str:
    """A secret's name, or InvalidArgument naming the field and the limit it breaks."""
    if len(name) > MAX_SECRET_NAME:
        raise InvalidArgument(
            "name", f"{len(name)} characters, more than the limit of {MAX_SECRET_NAME} for a secret's name"
        )
    return check_name(SECRET_RE, name, "name", "secret name")


def check_egress_policy(data: Any, field_name: str = "policy") -> EgressPolicy:
    """An egress policy's plain data (``EgressPolicy.to_dict()``'s fields) as an
    ``EgressPolicy``, or raise InvalidArgument naming the first bad field
    (``policy.hosts[0].pattern``, ``policy.max_requests``, ``policy.ca_pem``...)."""
    if not isinstance(data, Mapping):
        raise InvalidArgument(field_name, "must be an object")
    unknown = sorted(set(data) - _EGRESS_FIELDS)
    if unknown:
        raise InvalidArgument(f"{field_name}.{unknown[0]}", "unknown field")
    # Each part alone against an empty policy, so that the error names its field;
    # EgressPolicy.from_dict then builds the whole from the same checks.
    empty = EgressPolicy()
    for index, rule in enumerate(data.get("hosts") or ()):
        where = f"{field_name}.hosts[{index}]"
        if not isinstance(rule, Mapping) or set(rule) - {"pattern", "ports", "schemes"}:
            raise InvalidArgument(where, "must be an object with pattern, ports and schemes")
        # Unchecked values: with_host and with_address check each one's type themselves.
        pattern, ports, schemes = cast(str, rule.get("pattern")), rule.get("ports"), rule.get("schemes") or ("https",)
        _egress_field(f"{where}.pattern", empty.with_host, pattern)
        _egress_field(f"{where}.ports", empty.with_host, pattern, ports=ports)
        _egress_field(f"{where}.schemes", empty.with_host, pattern, ports=ports, schemes=schemes)
    for index, rule in enumerate(data.get("addresses") or ()):
        where = f"{field_name}.addresses[{index}]"
        if not isinstance(rule, Mapping) or set(rule) - {"network", "ports"}:
            raise InvalidArgument(where, "must be an object with network and ports")
        network, ports = cast(str, rule.get("network")), rule.get("ports")
        _egress_field(f"{where}.network", empty.with_address, network)
        _egress_field(f"{where}.ports", empty.with_address, network, ports=ports)
    for name in _EGRESS_LIMITS:
        if data.get(name) is not None:
            _egress_field(f"{field_name}.{name}", empty.with_limits, **{name: data[name]})
    pem = data.get("ca_pem")
    if pem is not None and not isinstance(pem, str):
        raise InvalidArgument(f"{field_name}.ca_pem", "must be PEM text")
    _egress_field(f"{field_name}.ca_pem", lambda: empty.with_ca(pem or None))
    return _egress_field(field_name, lambda: EgressPolicy.from_dict(data))


def _egress_field(field_name: str, build: Callable[..., EgressPolicy], *args: Any, **kwargs: Any) -> EgressPolicy:
    """``build(*args, **kwargs)``, its ValueError or TypeError an InvalidArgument naming the field."""
    try:
        return build(*args, **kwargs)
    except ssl.SSLError as exc:
        raise InvalidArgument(field_name, f"the CA certificates do not load: {exc}") from None
    except (ValueError, TypeError) as exc:
        raise InvalidArgument(field_name, str(exc)[:300]) from None
