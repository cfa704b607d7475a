"""What a tenant may upload: caps on bundles, versions, secrets and policies, per tenant.

Every cap is checked before anything is parsed, compiled or stored, and a refusal is
``InvalidArgument`` (INVALID_ARGUMENT, reason UPLOAD_LIMIT) naming the field, the file
and the limit by its setting name, so the client knows what to change::

    files['tools/big.py'].source: 300000 bytes; upload.file_bytes is 262144 for tenant 'acme'

The limits are settings (``upload.*``, worker/config.py), and a ``[[tenant_limits]]``
table in the configuration file overrides any of them for one tenant::

    [[tenant_limits]]
    tenant = "acme"
    files = 128
    versions = 500

Versions kept. A Deploy that takes a tenant past ``upload.versions`` prunes the tenant's
oldest versions that no alias names, in the same transaction; when every version past
the limit is named by an alias, the Deploy is refused (move or delete an alias first).
A pruned version that a replica still holds compiled keeps serving calls by its id until
that replica evicts it; the store no longer lists it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandbox import bundles
from worker.errors import InvalidArgument


class UploadLimit(InvalidArgument):
    """An upload over one of the tenant's caps (INVALID_ARGUMENT, reason UPLOAD_LIMIT)."""

    reason = "UPLOAD_LIMIT"


@dataclass(frozen=True)
class UploadLimits:
    """One tenant's caps. Field names are the settings' (``upload.<name>``)."""

    file_bytes: int = 256 * 1024  # UTF-8 bytes of one source file (at most the compiler's 256 KiB)
    bundle_bytes: int = 1024 * 1024  # UTF-8 bytes of all of a bundle's files
    files: int = 64  # files in one bundle
    filename_chars: int = 128  # characters of one file's name, directories included
    versions: int = 200  # versions kept per tenant; the oldest unaliased are pruned
    aliases: int = 100  # aliases per tenant
    secrets: int = 100  # secrets per tenant
    secret_bytes: int = 64 * 1024  # UTF-8 bytes of one secret's value
    policy_bytes: int = 64 * 1024  # an egress policy, as compact JSON

    def __post_init__(self) -> None:
        for name, value in dataclasses.asdict(self).items():
            if type(value) is not int or value < 1:
                raise ValueError(f"upload.{name} must be a positive integer, got {value!r}")
        if self.file_bytes > self.bundle_bytes:
            raise ValueError(
                f"upload.file_bytes ({self.file_bytes}) is larger than upload.bundle_bytes ({self.bundle_bytes})"
            )

    def with_(self, changes: Mapping[str, Any]) -> UploadLimits:
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown upload limit {unknown[0]!r} (known: {', '.join(FIELDS)})")
        return dataclasses.replace(self, **changes)


FIELDS = tuple(f.name for f in dataclasses.fields(UploadLimits))


class TenantLimits:
    """The caps of each tenant: the defaults, and the overrides some tenants have."""

    def __init__(self, default: UploadLimits = UploadLimits(), overrides: Mapping[str, UploadLimits] | None = None):
        self.default = default
        self._overrides = dict(overrides or {})

    def of(self, tenant: str) -> UploadLimits:
        return self._overrides.get(tenant, self.default)


def _over(field: str, what: str, limit_name: str, limit: int, tenant: str) -> UploadLimit:
    return UploadLimit(field, f"{what}; upload.{limit_name} is {limit} for tenant {tenant!r}")


def check_bundle(tenant: str, files: Mapping[str, str], limits: UploadLimits, compiler_file_bytes: int) -> None:
    """Refuses a bundle over the tenant's caps, naming the first file and limit it breaks.
    Only counts: names and bytes. Nothing is parsed."""
    if not files:
        raise InvalidArgument("files", "at least one source file is required")
    if len(files) > limits.files:
        raise _over("files", f"{len(files)} files", "files", limits.files, tenant)
    file_limit = min(limits.file_bytes, compiler_file_bytes)
    total = 0
    for name, source in files.items():
        where = f"files[{bundles.shown(name, 80)}]"
        if len(name) > limits.filename_chars:
            raise _over(f"{where}.name", f"{len(name)} characters", "filename_chars", limits.filename_chars, tenant)
        problem = bundles.filename_problem(name)
        if problem is not None:
            raise InvalidArgument(f"{where}.name", problem.message)
        size = len(source.encode("utf-8", "surrogatepass"))
        if size > file_limit:
            raise _over(f"{where}.source", f"{size} bytes", "file_bytes", file_limit, tenant)
        total += size
        if total > limits.bundle_bytes:
            raise _over(
                f"{where}.source",
                f"the bundle reaches {total} bytes with this file",
                "bundle_bytes",
                limits.bundle_bytes,
                tenant,
            )


def check_secret_value(tenant: str, value: str, limits: UploadLimits) -> None:
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > limits.secret_bytes:
        raise _over("value", f"{size} bytes", "secret_bytes", limits.secret_bytes, tenant)


def check_policy_size(tenant: str, policy: Any, limits: UploadLimits) -> None:
    """Refuses an egress policy whose compact JSON is over ``policy_bytes``, before it is checked."""
    try:
        size = len(json.dumps(policy, separators=(",", ":"), default=str).encode())
    except (TypeError, ValueError, RecursionError):
        raise InvalidArgument("policy", "must be plain data (objects, lists, strings, numbers)") from None
    if size > limits.policy_bytes:
        raise _over("policy", f"{size} bytes as JSON", "policy_bytes", limits.policy_bytes, tenant)
