"""A real PostgreSQL server for the tests, started by the test session itself.

Why our own fixture rather than pytest-postgresql: the tests must stop and start the
server in the middle of a test (the outage tests), run it as the ``postgres`` user when
the session runs as root (``initdb`` refuses root, and CI runs as root), in a directory
that user can reach (pytest's own temporary directories are private to root), and hand
its URL to server subprocesses. Each of those needs options or wrappers around
pytest-postgresql's executor; ~100 lines here do exactly that and nothing else.

Binaries come from Debian's ``postgresql`` package (``/usr/lib/postgresql/*/bin``, the
newest version), which ``dev.sh`` installs when it is missing. Nothing is mocked: the
server listens on a free loopback port with trust authentication for local connections
only, and lives under a fresh ``/tmp/toolpool-pg-*`` directory removed at the end.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg


def find_bin_dir() -> Path:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError(
        "PostgreSQL's initdb was not found: ./dev.sh installs Debian's postgresql package "
        "(apt-get install -y postgresql)"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """One initdb'd cluster: ``start()``, ``stop()``, ``url(dbname)``, ``create_database()``."""

    def __init__(self) -> None:
        self.bin = find_bin_dir()
        self.port = _free_port()
        self.base = Path(tempfile.mkdtemp(prefix="toolpool-pg-", dir="/tmp"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.base, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.base}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n"
            )

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def pg_dump(self, url: str) -> str:
        dump = self.bin / "pg_dump"
        return subprocess.run(
            [str(dump), "--no-owner", "-d", url], capture_output=True, text=True, check=True, timeout=120
        ).stdout

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)
