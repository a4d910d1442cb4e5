"""A real PostgreSQL server in a temporary folder, for the tests (`tests/pg.py`) and the
benchmarks (`bench.scale`).

The server runs from the machine's own binaries (Debian's `postgresql` package:
/usr/lib/postgresql/<version>/bin, or `initdb` on PATH), listening only on a Unix socket in
that folder: no TCP port, so nothing depends on a port being free. As root (CI) it runs as the
`postgres` user, since PostgreSQL refuses to run as root.

    with running_server() as server:   # NoServer says why when none can be started
        server.create_database("bench")
        url = server.url("bench")
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bot.dburl import PostgresUrl

SUPERUSER = "postgres"
# A role that must give a password (scram), for the tests that a password is never shown.
PASSWORD_ROLE = "wanbot_pw"
PASSWORD = "s3cret-Pa55-word"
HBA = f"local all {PASSWORD_ROLE} scram-sha-256\nlocal all all trust\n"


class NoServer(Exception):
    """No PostgreSQL server can be started here; the message says why."""


def server_bin() -> Path | None:
    """The folder of the newest PostgreSQL server binaries on this machine, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _version(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


@dataclass
class PostgresServer:
    """A running server: `url(dbname)` names one of its databases."""

    folder: Path
    bin: Path
    user: tuple[int, int] | None  # (uid, gid) to run as; None: this user

    def url(self, dbname: str, role: str = SUPERUSER) -> PostgresUrl:
        return PostgresUrl(f"postgresql://{role}@/{dbname}?host={self.folder}")

    def run(self, *args: str) -> None:
        kwargs: dict[str, Any] = {}
        if self.user is not None:
            kwargs = {"user": self.user[0], "group": self.user[1], "extra_groups": []}
        subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            cwd=self.folder,
            **kwargs,
        )

    def start(self) -> None:
        data = self.folder / "data"
        self.run(
            "initdb", "-D", str(data), "-U", SUPERUSER, "-A", "trust", "--no-sync", "-E", "UTF8"
        )
        (data / "pg_hba.conf").write_text(HBA)
        options = f"-c listen_addresses='' -k {self.folder} -c fsync=off -c full_page_writes=off"
        # -w: pg_ctl returns once the server accepts connections.
        self.run(
            "pg_ctl", "-D", str(data), "-w", "-l", str(self.folder / "log"), "-o", options, "start"
        )
        with psycopg.connect(self.url("postgres").url, autocommit=True) as admin:
            admin.execute(f"CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD '{PASSWORD}'")

    def restart(self) -> None:
        """Stop the server (fast: every session is cut) and start it again on the same data."""
        data, log = str(self.folder / "data"), str(self.folder / "log")
        self.run("pg_ctl", "-D", data, "-w", "-m", "fast", "-l", log, "restart")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "stop")

    def create_database(self, name: str, owner: str = SUPERUSER) -> None:
        with psycopg.connect(self.url("postgres").url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name} OWNER {owner}")


def run_as() -> tuple[int, int] | None:
    """Whom the server runs as: this user, or `postgres` when this is root."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError:
        raise NoServer(
            "PostgreSQL refuses to run as root and there is no `postgres` user"
        ) from None
    return entry.pw_uid, entry.pw_gid


@contextmanager
def running_server() -> Iterator[PostgresServer]:
    """A server started for the block and removed after it; `NoServer` when none can be."""
    binaries = server_bin()
    if binaries is None:
        raise NoServer("no PostgreSQL server binaries (apt-get install postgresql)")
    user = run_as()
    folder = Path(tempfile.mkdtemp(prefix="wanbot-pg-"))
    if user is not None:
        os.chown(folder, *user)
    server = PostgresServer(folder, binaries, user)
    try:
        server.start()
        yield server
    finally:
        if (folder / "data" / "postmaster.pid").exists():
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
