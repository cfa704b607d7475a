"""The service's configuration: validated defaults, then a TOML file, the environment, flags.

Later sources win: defaults < file (``--config``/``TOOLPOOL_CONFIG``) < ``TOOLPOOL_*``
environment < command-line flags. Every setting has one key, spelled three ways::

    TOML:  [admission] max_queue = 64     env: TOOLPOOL_ADMISSION_MAX_QUEUE=64
    flag:  overrides={"admission.max_queue": 64}

Clients (who may call, and for which tenants) come from ``[[clients]]`` tables in the file,
each with ``name``, ``tenants`` (a list; ``"*"`` means any tenant) and one of ``token``,
``token_sha256`` or ``token_env`` (the name of an environment variable holding it), and
optionally ``tls_common_name`` (the client certificate's CN must match) and ``operator``
(default false). The environment adds one more with ``TOOLPOOL_TOKEN`` and
``TOOLPOOL_TOKEN_TENANTS`` (default ``*``), never an operator. Only SHA-256 digests of
tokens are kept in memory. With no client configured at all the server makes a random
development token, allowed every tenant and an operator, and writes it to ``token_file``
(mode 0600): the embedded defaults work on one machine without any setup.

``operator = true`` lets a client set its tenants' egress policies (SetEgressPolicy;
others get PERMISSION_DENIED, reason OPERATOR_ONLY). Give it only to the platform's own
administration client, never to one that acts for tenants: an address rule in a policy
can open private and link-local addresses (the cloud metadata service at
169.254.169.254) to a tenant's tools. Any client may read its tenants' policies::

    [[clients]]
    name = "ops"
    tenants = ["*"]
    token_env = "TOOLPOOL_OPS_TOKEN"
    operator = true

Per-tenant overrides: ``[[tenant_limits]]`` tables (upload caps, worker/uploads.py) and
``[[tenant_cpu]]`` tables (``tenant = "acme"``, ``weight = 400``, ``max_percent = 150``: the
``cgroups.default_*`` settings for one tenant's CPU group, sandbox/supervisor/cgroups.py).

The store (worker/store/) is ``store.url``: ``sqlite:///PATH`` (the default, ``db_path``'s
file) serves one replica; ``postgresql://USER:PASSWORD@HOST/DB`` serves a fleet, and then
every replica needs the same secrets master key, from ``secrets.key`` (env
``TOOLPOOL_SECRETS_KEY``: base64 of 32 bytes, or ``ID:BASE64,...`` with the primary key
first) or ``secrets.key_file``. With SQLite and neither, a key file is made beside the
database. The URL's password and the key are never described.

This module trusts its inputs no more than a request: each value is checked, and a bad
one raises ``ConfigError`` naming the key and where it came from. ``Config.describe()``
is what the server logs at start-up; it never contains a token.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.supervisor.cgroups import CgroupConfig, TenantCpu
from worker.settings import ENV_PREFIX, SETTINGS, SETTINGS_BY_KEY
from worker.uploads import FIELDS as UPLOAD_FIELDS
from worker.uploads import TenantLimits, UploadLimits

ANY_TENANT = "*"


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the key and its source."""


def default_state_dir(env: Mapping[str, str] | None = None) -> Path:
    """$XDG_STATE_HOME/toolpool, else ~/.local/state/toolpool."""
    env = os.environ if env is None else env
    home = env.get("HOME") or str(Path.home())
    base = env.get("XDG_STATE_HOME") or str(Path(home) / ".local" / "state")
    return Path(base) / "toolpool"


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the embedded defaults keep their files: TOOLPOOL_STATE_DIR when set (``./dev.sh
    demo`` sets it inside the checkout), else ``default_state_dir``. The server's own
    rule is the same with ``state_dir`` from a file or flag first (``load_config``)."""
    env = os.environ if env is None else env
    explicit = env.get(ENV_PREFIX + "STATE_DIR")
    return Path(explicit) if explicit else default_state_dir(env)


def _default_max_concurrent() -> int:
    return max(4, 2 * (os.cpu_count() or 1))


@dataclass(frozen=True)
class ClientConfig:
    """One orchestration client: who it is, its token's digest, the tenants it may act for."""

    name: str
    token_sha256: str = field(repr=False)
    tenants: frozenset[str]
    tls_common_name: str | None = None
    operator: bool = False  # may set egress policies (SetEgressPolicy)

    def allows(self, tenant: str) -> bool:
        return ANY_TENANT in self.tenants or tenant in self.tenants

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tenants": sorted(self.tenants),
            "token": "<redacted>",
            "tls_common_name": self.tls_common_name,
            "operator": self.operator,
        }


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Config:
    state_dir: Path
    host: str
    port: int
    db_path: Path
    store_url: str
    store_pool_size: int
    store_timeout_ms: int
    store_connect_timeout_s: float
    secrets_key: str | None = field(repr=False)
    secrets_key_file: Path | None
    token_file: Path
    log_level: str
    log_format: str
    max_message_bytes: int
    pool_mode: str
    pool_ready_children: int
    pool_reuse_max_calls: int
    pool_insecure_no_confinement: bool
    admission_max_concurrent: int
    admission_tenant_concurrency: int
    admission_reserved_for_start: int
    admission_max_queue: int
    admission_tenant_max_queue: int
    deadline_margin_ms: int
    deadline_min_run_ms: int
    compile_concurrency: int
    compile_tenant_queue: int
    compile_max_queue: int
    cgroups_enabled: bool
    cgroups_root: Path | None
    cgroups_default_weight: int
    cgroups_default_max_percent: int
    cgroups_max_groups: int
    cgroups_idle_s: float
    cache_bytes: int
    upload_file_bytes: int
    upload_bundle_bytes: int
    upload_files: int
    upload_filename_chars: int
    upload_versions: int
    upload_aliases: int
    upload_secrets: int
    upload_secret_bytes: int
    upload_policy_bytes: int
    drain_grace_s: float
    metrics_enabled: bool
    metrics_host: str
    metrics_port: int
    metrics_max_tenants: int
    grpc_max_connection_age_s: float
    tls_cert_file: Path | None
    tls_key_file: Path | None
    tls_client_ca_file: Path | None
    clients: tuple[ClientConfig, ...]
    tenant_limits: tuple[tuple[str, Mapping[str, int]], ...] = ()
    tenant_cpu: tuple[tuple[str, Mapping[str, int]], ...] = ()
    dev_token_generated: bool = False

    def upload_limits(self) -> TenantLimits:
        """Every tenant's upload caps: the ``upload.*`` settings, then its ``[[tenant_limits]]``."""
        default = UploadLimits(**{name: getattr(self, f"upload_{name}") for name in UPLOAD_FIELDS})
        return TenantLimits(default, {tenant: default.with_(changes) for tenant, changes in self.tenant_limits})

    def cgroup_config(self) -> CgroupConfig:
        """Per-tenant CPU groups: the ``cgroups.*`` settings, then each ``[[tenant_cpu]]``."""
        default = TenantCpu(self.cgroups_default_weight, self.cgroups_default_max_percent)
        tenants = tuple((t, dataclasses.replace(default, **changes)) for t, changes in self.tenant_cpu)
        return CgroupConfig(
            enabled=self.cgroups_enabled,
            root=str(self.cgroups_root) if self.cgroups_root else None,
            default=default,
            tenants=tenants,
            max_groups=self.cgroups_max_groups,
            idle_seconds=self.cgroups_idle_s,
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def describe(self) -> dict[str, Any]:
        """The configuration as logged at start-up: every setting, no token."""
        described: dict[str, Any] = {}
        from worker.store.urls import redact_url

        for setting in SETTINGS:
            value = getattr(self, setting.attr)
            described[setting.key] = str(value) if isinstance(value, Path) else value
        described["store.url"] = redact_url(self.store_url)
        described["secrets.key"] = "<redacted>" if self.secrets_key else None
        described["clients"] = [c.describe() for c in self.clients]
        described["tenant_limits"] = {tenant: dict(changes) for tenant, changes in self.tenant_limits}
        described["tenant_cpu"] = {tenant: dict(changes) for tenant, changes in self.tenant_cpu}
        described["dev_token_generated"] = self.dev_token_generated
        return described


def load_config(
    file: str | Path | None = None, *, env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Config:
    """Builds the configuration from the file, the environment and flag overrides.

    ``overrides`` maps setting keys ("admission.max_queue") to values; None values are
    ignored, so argparse defaults of None mean "not given". Raises ConfigError.
    """
    env = dict(os.environ if env is None else env)
    file = file if file is not None else env.get(ENV_PREFIX + "CONFIG") or None
    document = _read_toml(Path(file)) if file else {}

    raw: dict[str, tuple[Any, str]] = {}
    for key, value in _flatten(document).items():
        if key in ("clients", "tenant_limits", "tenant_cpu"):
            continue
        if key not in SETTINGS_BY_KEY:
            raise ConfigError(f"{key}: unknown setting (in {file})")
        raw[key] = (value, f"file {file}")
    for setting in SETTINGS:
        if setting.env in env:
            raw[setting.key] = (env[setting.env], f"environment {setting.env}")
    for key, value in (overrides or {}).items():
        if key not in SETTINGS_BY_KEY:
            raise ConfigError(f"{key}: unknown setting (flag)")
        if value is not None:
            raw[key] = (value, "flag")

    values: dict[str, Any] = {}
    for setting in SETTINGS:
        value, source = raw.get(setting.key, (setting.default, "default"))
        try:
            values[setting.attr] = setting.parse(value) if value is not None else None
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{setting.key}: {exc} (from {source})") from None

    values = _derive(values, env)
    clients = _load_clients(document.get("clients", []), env, str(file))
    generated = False
    if not clients:
        clients = (_dev_client(values["token_file"]),)
        generated = True
    tenant_limits = _load_tenant_tables(
        document.get("tenant_limits", []), "tenant_limits", dict.fromkeys(UPLOAD_FIELDS, (1, None)), str(file)
    )
    tenant_cpu = _load_tenant_tables(document.get("tenant_cpu", []), "tenant_cpu", TENANT_CPU_FIELDS, str(file))
    config = Config(
        **values, clients=clients, tenant_limits=tenant_limits, tenant_cpu=tenant_cpu, dev_token_generated=generated
    )
    _check(config)
    return config


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None


def _flatten(document: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in document.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _derive(values: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    state = values["state_dir"] = values["state_dir"] or default_state_dir(env)
    values["db_path"] = values["db_path"] or state / "toolpool.db"
    values["store_url"] = values["store_url"] or f"sqlite://{Path(values['db_path']).absolute()}"
    values["token_file"] = values["token_file"] or state / "dev-token"
    values["admission_max_concurrent"] = values["admission_max_concurrent"] or _default_max_concurrent()
    values["admission_tenant_concurrency"] = values["admission_tenant_concurrency"] or max(
        1, values["admission_max_concurrent"] // 2
    )
    return values


def _check(config: Config) -> None:
    if config.secrets_key and config.secrets_key_file:
        raise ConfigError("secrets.key and secrets.key_file: give one or the other")
    if config.store_url.startswith(("postgresql:", "postgres:")) and not (
        config.secrets_key or config.secrets_key_file
    ):
        raise ConfigError(
            "secrets.key: a PostgreSQL store needs the secrets master key, the same on every replica: "
            "set TOOLPOOL_SECRETS_KEY (make one with: openssl rand -base64 32) or secrets.key_file"
        )
    if config.admission_reserved_for_start >= config.admission_max_concurrent:
        raise ConfigError(
            "admission.reserved_for_start: must leave at least one slot for other tools "
            f"({config.admission_reserved_for_start} >= {config.admission_max_concurrent})"
        )
    if bool(config.tls_cert_file) != bool(config.tls_key_file):
        raise ConfigError("tls.cert_file and tls.key_file: give both or neither")
    if config.tls_client_ca_file and not config.tls_cert_file:
        raise ConfigError("tls.client_ca_file: mTLS needs tls.cert_file and tls.key_file too")
    if any(c.tls_common_name for c in config.clients) and not config.tls_client_ca_file:
        raise ConfigError("clients.tls_common_name: needs tls.client_ca_file (mTLS)")
    try:
        config.upload_limits()
        config.cgroup_config()
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


TENANT_CPU_FIELDS = {"weight": (1, 10_000), "max_percent": (0, 100_000)}  # [[tenant_cpu]] keys and their ranges


def _load_tenant_tables(
    tables: Any, name: str, fields: Mapping[str, tuple[int, int | None]], source: str
) -> tuple[tuple[str, Mapping[str, int]], ...]:
    """``[[NAME]]`` tables of one tenant's overrides: ``tenant = "NAME"`` and integer ``fields``
    (each in its range): ``[[tenant_limits]]`` takes any ``upload.*`` setting's last part,
    ``[[tenant_cpu]]`` a ``weight`` and a ``max_percent``."""
    if not isinstance(tables, list):
        raise ConfigError(f"{name}: expected [[{name}]] tables (in {source})")
    seen: dict[str, Mapping[str, int]] = {}
    for index, table in enumerate(tables):
        where = f"{name}[{index}]"
        if not isinstance(table, dict) or not isinstance(table.get("tenant"), str) or not table["tenant"]:
            raise ConfigError(f'{where}: expected a table with tenant = "NAME" (in {source})')
        tenant = table["tenant"]
        if tenant in seen:
            raise ConfigError(f"{where}: tenant {tenant!r} has two [[{name}]] tables (in {source})")
        changes = {key: value for key, value in table.items() if key != "tenant"}
        unknown = sorted(set(changes) - set(fields))
        if unknown:
            raise ConfigError(f"{where}.{unknown[0]}: unknown limit; known: {', '.join(fields)} (in {source})")
        for key, value in changes.items():
            low, high = fields[key]
            if type(value) is not int or value < low or (high is not None and value > high):
                wanted = "a positive integer" if high is None else f"an integer in [{low}, {high}]"
                raise ConfigError(f"{where}.{key}: expected {wanted}, got {value!r} (in {source})")
        seen[tenant] = changes
    return tuple(seen.items())


def _load_clients(tables: Any, env: Mapping[str, str], source: str) -> tuple[ClientConfig, ...]:
    if not isinstance(tables, list):
        raise ConfigError(f"clients: expected [[clients]] tables (in {source})")
    clients = [_load_client(i, table, env, source) for i, table in enumerate(tables)]
    if env.get(ENV_PREFIX + "TOKEN"):
        tenants = env.get(ENV_PREFIX + "TOKEN_TENANTS", ANY_TENANT)
        clients.append(
            ClientConfig(
                name="env",
                token_sha256=hash_token(env[ENV_PREFIX + "TOKEN"]),
                tenants=frozenset(t.strip() for t in tenants.split(",") if t.strip()),
            )
        )
    names = [c.name for c in clients]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ConfigError(f"clients: duplicate names {sorted(duplicates)}")
    digests = [c.token_sha256 for c in clients]
    if len(set(digests)) != len(digests):
        raise ConfigError("clients: two clients share a token")
    return tuple(clients)


def _load_client(index: int, table: Any, env: Mapping[str, str], source: str) -> ClientConfig:
    where = f"clients[{index}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table (in {source})")
    unknown = set(table) - {"name", "tenants", "token", "token_sha256", "token_env", "tls_common_name", "operator"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)} (in {source})")
    name = table.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}.name: required (in {source})")
    tenants = table.get("tenants")
    if not isinstance(tenants, list) or not tenants or not all(isinstance(t, str) and t for t in tenants):
        raise ConfigError(f'{where}.tenants: a non-empty list of tenant names or "*" (in {source})')
    ways = [k for k in ("token", "token_sha256", "token_env") if k in table]
    if len(ways) != 1:
        raise ConfigError(f"{where}: give exactly one of token, token_sha256, token_env (in {source})")
    if "token" in table:
        digest = hash_token(_str_field(table["token"], f"{where}.token", source))
    elif "token_env" in table:
        variable = _str_field(table["token_env"], f"{where}.token_env", source)
        if not env.get(variable):
            raise ConfigError(f"{where}.token_env: environment variable {variable} is not set")
        digest = hash_token(env[variable])
    else:
        digest = _str_field(table["token_sha256"], f"{where}.token_sha256", source).lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ConfigError(f"{where}.token_sha256: expected 64 hex digits (in {source})")
    cn = table.get("tls_common_name")
    if cn is not None:
        cn = _str_field(cn, f"{where}.tls_common_name", source)
    operator = table.get("operator", False)
    if not isinstance(operator, bool):
        raise ConfigError(f"{where}.operator: expected true or false (in {source})")
    return ClientConfig(
        name=name, token_sha256=digest, tenants=frozenset(tenants), tls_common_name=cn, operator=operator
    )


def _str_field(value: Any, key: str, source: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key}: expected a non-empty string (in {source})")
    return value


def _dev_client(token_file: Path) -> ClientConfig:
    """Reads the development token from token_file, making one first if there is none."""
    token = read_token_file(token_file)
    if token is None:
        token = secrets.token_urlsafe(32)
        token_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another server made it first: use theirs
            return _dev_client(token_file)
        with os.fdopen(fd, "w") as handle:
            handle.write(token + "\n")
    return ClientConfig(name="dev", token_sha256=hash_token(token), tenants=frozenset({ANY_TENANT}), operator=True)


def read_token_file(path: Path) -> str | None:
    try:
        token = path.read_text().strip()
    except FileNotFoundError:
        return None
    return token or None


def replace(config: Config, **changes: Any) -> Config:
    """A copy with changes (for tests and the CLI); re-checked."""
    updated = dataclasses.replace(config, **changes)
    _check(updated)
    return updated
