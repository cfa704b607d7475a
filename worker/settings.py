"""Every setting of the service, in one table: its key (``[section] key`` in the TOML
file, ``TOOLPOOL_SECTION_KEY`` in the environment), how its value is parsed and checked,
its default, and one line saying what it is for.
``worker/config.py`` loads them (file, then environment, then flags) into a ``Config``.

Each parser raises ``ValueError`` saying what is wrong with a value; the loader adds the
key and where the value came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_PREFIX = "TOOLPOOL_"


@dataclass(frozen=True)
class Setting:
    key: str
    parse: Callable[[Any], Any]
    default: Any
    doc: str

    @property
    def attr(self) -> str:
        return self.key.replace(".", "_")

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.attr.upper()


def _int(low: int, high: int | None = None) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError(f"expected an integer, got {value!r}")
        number = int(value)
        if number < low or (high is not None and number > high):
            raise ValueError(f"must be in [{low}, {high if high is not None else '...'}], got {number}")
        return number

    return parse


def _float(low: float) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        number = float(value)
        if not number >= low:
            raise ValueError(f"must be >= {low}, got {number}")
        return number

    return parse


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected a boolean, got {value!r}")


def _choice(*options: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value)
        if text not in options:
            raise ValueError(f"must be one of {', '.join(options)}, got {text!r}")
        return text

    return parse


def _path_or_none(value: Any) -> Path | None:
    return Path(str(value)).expanduser() if value not in (None, "") else None


def _store_url(value: Any) -> str:
    from worker.store.urls import parse_store_url

    text = _str(value).strip()
    parse_store_url(text)  # raises ValueError saying what is wrong
    return text


def _key_text(value: Any) -> str:
    from worker.store.crypto import parse_keys

    text = _str(value)
    parse_keys(text)  # raises KeyTextError (a ValueError) naming the bad entry; never echoes a key
    return text


def _str(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a non-empty string, got {value!r}")
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "state_dir",
        _path_or_none,
        None,
        "where the embedded defaults keep the database, secrets key and "
        "development token; default $XDG_STATE_HOME/toolpool, else ~/.local/state/toolpool",
    ),
    Setting("host", _str, "127.0.0.1", "address to listen on; 0.0.0.0 or [::] to serve the network"),
    Setting("port", _int(0, 65535), 50051, "0 picks a free port"),
    Setting(
        "db_path",
        _path_or_none,
        None,
        "SQLite database; default <state dir>/toolpool.db; used when store.url is not set",
    ),
    Setting(
        "store.url",
        _store_url,
        None,
        "sqlite:///PATH (one replica; default sqlite:///<db_path>) or "
        "postgresql://USER:PASSWORD@HOST:PORT/DB (a fleet)",
    ),
    Setting("store.pool_size", _int(1, 64), 4, "PostgreSQL: connections per replica"),
    Setting(
        "store.timeout_ms",
        _int(100, 60_000),
        1500,
        "PostgreSQL: the longest a query may take or wait for a connection before STORAGE_UNAVAILABLE",
    ),
    Setting(
        "store.connect_timeout_s",
        _float(0.0),
        30.0,
        "PostgreSQL: how long start-up waits for the database (retrying) before giving up",
    ),
    Setting(
        "secrets.key",
        _key_text,
        None,
        "master key(s) sealing secrets: base64 of 32 bytes, or "
        "ID:BASE64,ID:BASE64 with the primary first; never logged",
    ),
    Setting(
        "secrets.key_file",
        _path_or_none,
        None,
        "file holding the master key(s) in the same form; "
        "SQLite default <database dir>/secrets.key, made with mode 0600",
    ),
    Setting("token_file", _path_or_none, None, "where the development token is written; default <state dir>/dev-token"),
    Setting("log_level", _choice("DEBUG", "INFO", "WARNING", "ERROR"), "INFO", ""),
    Setting(
        "log_format",
        _choice("auto", "json", "text"),
        "auto",
        "json: one JSON object per line (worker/observability.py); auto: text on a terminal, else json",
    ),
    Setting("max_message_bytes", _int(64 * 1024), 8 * 1024 * 1024, "largest request or response"),
    Setting("pool.mode", _choice("fresh", "reuse"), "fresh", "fresh: one child per call"),
    Setting("pool.ready_children", _int(1), 4, "confined children forked ahead of demand"),
    Setting("pool.reuse_max_calls", _int(1), 100, "mode reuse: calls per child"),
    Setting("pool.insecure_no_confinement", _bool, False, "development only: run tools unconfined"),
    Setting("admission.max_concurrent", _int(0), 0, "calls running at once; 0 = max(4, 2 x CPUs)"),
    Setting("admission.tenant_concurrency", _int(0), 0, "per tenant; 0 = half of max_concurrent"),
    Setting("admission.reserved_for_start", _int(0), 1, "slots only start_function may use"),
    Setting("admission.max_queue", _int(0), 64, "calls waiting, all tenants"),
    Setting("admission.tenant_max_queue", _int(0), 16, "calls waiting, per tenant"),
    Setting("deadline.margin_ms", _int(0, 10_000), 100, "kept between the tool's deadline and the caller's"),
    Setting("deadline.min_run_ms", _int(1, 10_000), 20, "a call with less time than this left is not started"),
    Setting("compile.concurrency", _int(1, 64), 1, "confined compiles at once (each in its own worker)"),
    Setting("compile.tenant_queue", _int(1), 4, "compiles one tenant may have waiting"),
    Setting("compile.max_queue", _int(1), 32, "compiles waiting, all tenants"),
    Setting(
        "cgroups.enabled",
        _bool,
        True,
        "a cgroup per tenant with a CPU weight (sandbox/supervisor/cgroups.py); off, "
        "logged once, where the host allows none",
    ),
    Setting("cgroups.root", _path_or_none, None, "the cgroup toolpool makes its groups in; default its own (cpu)"),
    Setting("cgroups.default_weight", _int(1, 10_000), 100, "cpu.weight scale: 100 an even share (v1 cpu.shares 1024)"),
    Setting("cgroups.default_max_percent", _int(0, 100_000), 0, "each tenant's CPU cap, percent of one CPU; 0 = none"),
    Setting("cgroups.max_groups", _int(1), 256, "tenant groups at once; the least recently used empty one goes"),
    Setting("cgroups.idle_s", _float(0.0), 60.0, "an empty tenant group unused this long is removed"),
    Setting(
        "cache.bytes",
        _int(1024 * 1024),
        128 * 1024 * 1024,
        "every server-side cache together (compiled bundles, rows, egress policies), in bytes",
    ),
    Setting("upload.file_bytes", _int(1, 256 * 1024), 256 * 1024, "UTF-8 bytes of one source file"),
    Setting("upload.bundle_bytes", _int(1), 1024 * 1024, "UTF-8 bytes of one bundle's files"),
    Setting("upload.files", _int(1, 256), 64, "files in one bundle"),
    Setting("upload.filename_chars", _int(5, 575), 128, "characters of a file's name, directories included"),
    Setting("upload.versions", _int(1), 200, "versions kept per tenant; the oldest no alias names are pruned"),
    Setting("upload.aliases", _int(1), 100, "aliases per tenant"),
    Setting("upload.secrets", _int(1), 100, "secrets per tenant"),
    Setting("upload.secret_bytes", _int(1), 64 * 1024, "UTF-8 bytes of one secret's value"),
    Setting("upload.policy_bytes", _int(64), 64 * 1024, "an egress policy, as compact JSON"),
    Setting("drain.grace_s", _float(0.0), 10.0, "on SIGTERM, how long calls in flight may take to finish"),
    Setting("metrics.enabled", _bool, False, "serve Prometheus metrics over HTTP (worker/metrics.py)"),
    Setting("metrics.host", _str, "127.0.0.1", "metrics address; 0.0.0.0 for a scraper on the network"),
    Setting("metrics.port", _int(0, 65535), 9464, "metrics port; 0 picks a free one"),
    Setting("metrics.max_tenants", _int(0), 100, "distinct tenant label values; later tenants count as _other"),
    Setting(
        "grpc.max_connection_age_s",
        _float(0.0),
        0.0,
        "0 = never; else connections are closed (gracefully) after this long, so clients "
        "re-resolve DNS and spread onto replicas added since",
    ),
    Setting("tls.cert_file", _path_or_none, None, "server certificate (PEM); enables TLS"),
    Setting("tls.key_file", _path_or_none, None, "server private key (PEM)"),
    Setting("tls.client_ca_file", _path_or_none, None, "CA for client certificates; enables mTLS (required)"),
)
SETTINGS_BY_KEY = {s.key: s for s in SETTINGS}
