"""Store URLs: which backend a ``store.url`` names, and the same URL fit for a log line.

Shared by the configuration (which checks ``store.url`` when it loads), the backends
(which log the URL they opened) and ``open_store``. It imports nothing of the service, so
that the configuration and the store can both use it without importing each other.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

SQLITE_PREFIX = "sqlite://"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
USAGE = "give sqlite:///ABSOLUTE/PATH or postgresql://USER:PASSWORD@HOST:PORT/DATABASE"


def parse_store_url(url: str) -> tuple[str, str]:
    """("sqlite", path) or ("postgresql", url). Raises ValueError saying what is wrong."""
    if url.startswith(SQLITE_PREFIX):
        path = url[len(SQLITE_PREFIX) :]
        if not path.startswith("/") or path.strip("/") == "" or "?" in path:
            raise ValueError(f"{url[:200]!r} is not a SQLite URL with an absolute path; {USAGE}")
        return "sqlite", "/" + path.lstrip("/")  # sqlite:////abs (SQLAlchemy's spelling) is the same file
    if url.startswith(POSTGRES_SCHEMES):
        from psycopg.conninfo import conninfo_to_dict

        try:
            conninfo_to_dict(url)
        except Exception as exc:  # noqa: BLE001 - psycopg raises ProgrammingError, libpq's text inside
            # libpq quotes the part it could not parse, which may be the password: not echoed.
            detail = re.sub(r'"[^"]*"', '"..."', str(exc).strip().splitlines()[0])[:200]
            raise ValueError(f"not a valid PostgreSQL URL ({detail}); {USAGE}") from None
        return "postgresql", url
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise ValueError(f"unknown scheme {scheme[:40]!r}; {USAGE}")


def redact_url(url: str) -> str:
    """The URL with its password (in the authority or a ``password=`` parameter) replaced by ***."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        netloc = f"{user}{':***' if colon else ''}@{hostport}"
    query = urllib.parse.urlencode(
        [(k, "***" if k == "password" else v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)],
        safe="*",
    )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def default_key_file(sqlite_path: str | Path) -> Path:
    """Where the embedded default keeps its master key: beside the database."""
    return Path(sqlite_path).parent / "secrets.key"
