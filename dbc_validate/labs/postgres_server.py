"""A throwaway local PostgreSQL: initdb in a temporary folder, a free port, stopped and removed afterwards.

The server runs unprivileged (PostgreSQL refuses root). The harness connects over a Unix socket in the lab
folder with trust; TCP on 127.0.0.1 asks for a password (scram), so DSNs with passwords can be tested too.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from dbc_validate.labs.postgres_binaries import PgBinaries
from dbc_validate.tools.processes import (
    LabProcess,
    free_ports,
    lab_directory,
    remove_directory,
    unprivileged_prefix,
    wait_for_port,
)

SUPERUSER = "postgres"
# A lab is disposable: durability settings off make initdb and the bootstrap several times faster.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "40",
}


class LabStartError(RuntimeError):
    """The local PostgreSQL could not be created or started (the message carries its log)."""


@dataclass
class PostgresLab:
    binaries: PgBinaries
    directory: Path
    port: int
    process: LabProcess

    @property
    def socket_dir(self) -> Path:
        return self.directory / "sockets"

    def dsn(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        """Superuser connection over the lab's Unix socket (trust: no password involved)."""
        return f"host={self.socket_dir} port={self.port} user={user} dbname={database}"

    def tcp_dsn(self, database: str, user: str, password: str) -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str, database: str = "postgres") -> None:
        with psycopg.connect(self.dsn(database), autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, name: str) -> None:
        # template0 + UTF8: the CJK parser only splits CJK text in UTF-8 databases.
        self.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")

    def stop(self) -> None:
        self.process.stop()
        remove_directory(self.directory)


def _run(argv: list[str], what: str, timeout_s: float = 120.0) -> None:
    done = subprocess.run(
        [*unprivileged_prefix(), *argv], capture_output=True, text=True, timeout=timeout_s, check=False
    )
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip().splitlines()[-15:]
        raise LabStartError(f"{what} failed (exit {done.returncode}): " + " | ".join(output))


def _wait_until_accepting(lab: PostgresLab, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    if not wait_for_port(lab.port, timeout_s=timeout_s, alive=lab.process.alive):
        raise LabStartError(f"PostgreSQL did not open port {lab.port}; log: {lab.process.log_tail(15)}")
    last = ""
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(lab.dsn(), connect_timeout=5):
                return
        except psycopg.OperationalError as exc:  # "the database system is starting up"
            last = str(exc).strip()
            time.sleep(0.1)
    raise LabStartError(f"PostgreSQL did not accept connections: {last}; log: {lab.process.log_tail(15)}")


def start_postgres_lab(
    binaries: PgBinaries, progress: Callable[[str], None], *, timeout_s: float = 60.0
) -> PostgresLab:
    """initdb and start a PostgreSQL; on any failure (Ctrl-C included) nothing is left behind."""
    directory = lab_directory("postgres")
    data = directory / "data"
    (directory / "sockets").mkdir()
    process: LabProcess | None = None
    try:
        progress(f"postgres lab: initdb (PostgreSQL {binaries.major} from {binaries.source}) in {directory}")
        _run(
            [
                binaries.program("initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--no-locale",  # CloudNativePG's default: C locale, UTF-8
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--no-sync",
            ],
            "initdb",
        )
        port = free_ports(1)[0]
        settings = [arg for key, value in SERVER_SETTINGS.items() for arg in ("-c", f"{key}={value}")]
        argv = [binaries.program("postgres"), "-D", str(data), "-p", str(port), "-k", str(directory / "sockets")]
        process = LabProcess("postgres", [*argv, *settings], log_path=directory / "postgres.log", unprivileged=True)
        progress(f"postgres lab: starting PostgreSQL {binaries.major} on 127.0.0.1:{port}")
        lab = PostgresLab(binaries, directory, port, process.start())
        _wait_until_accepting(lab, timeout_s)
        return lab
    except BaseException:
        if process is not None:
            process.stop()
        remove_directory(directory)
        raise
