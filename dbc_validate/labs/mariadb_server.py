"""A local MariaDB initialised the way the set's MySQL StatefulSet initialises MySQL (the image's entrypoint:
database, user, password and root from the env), on a free loopback port, as a non-root uid.

`--no-defaults` keeps Debian's /etc/mysql out (its socket, port and charset); init runs through
`mariadb-install-db --extra-file`, which needs FLUSH PRIVILEGES first to have grant tables.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

from dbc_validate.analysis.app_stack import MysqlPlan
from dbc_validate.errors import MissingBinary
from dbc_validate.tools.processes import LabProcess, free_ports, unprivileged_prefix

APPS_APT = "apt-get install mariadb-server php-cli php-mysql wordpress wordpress-theme-twentytwentythree"
# MySQL 8.x defaults to utf8mb4 with utf8mb4_0900_ai_ci, a collation MariaDB 10.11 does not have.
MYSQL8_DEFAULT = ("utf8mb4", "utf8mb4_0900_ai_ci")
MARIADB_COLLATIONS = {"utf8mb4_0900_ai_ci": "utf8mb4_unicode_ci", "utf8mb4_0900_as_cs": "utf8mb4_bin"}
DEFAULT_COLLATION = {"utf8mb4": "utf8mb4_unicode_ci", "utf8mb3": "utf8mb3_general_ci", "latin1": "latin1_swedish_ci"}
_VERSION = re.compile(r"Ver\s+(\d+\.\d+\.\d+)")


def find_mariadb() -> tuple[str, str]:
    """(mariadb-install-db, mariadbd) paths; MissingBinary with the apt command when absent."""
    install, server = shutil.which("mariadb-install-db"), shutil.which("mariadbd") or "/usr/sbin/mariadbd"
    if install is None or not Path(server).exists():
        raise MissingBinary("MariaDB is not installed (mariadb-install-db, mariadbd)", APPS_APT)
    return install, server


def server_charset(plan: MysqlPlan) -> tuple[str, str]:
    """(charset, collation) the StatefulSet's server runs with: its args, else the image's default."""
    image = plan.image.rsplit("/", 1)[-1]
    default = MYSQL8_DEFAULT if image.startswith(("mysql:8", "mysql:9", "mysql:latest")) else ("latin1", "")
    charset = plan.charset or default[0]
    collation = plan.collation or (default[1] if charset == default[0] else "") or DEFAULT_COLLATION.get(charset, "")
    return charset, MARIADB_COLLATIONS.get(collation, collation)


def _sql(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def init_sql(plan: MysqlPlan) -> str:
    """What the mysql image's entrypoint does on an empty data directory, one statement per line (the
    bootstrap reader needs that). The database gets no charset clause: it inherits the server's, as there."""
    lines = ["FLUSH PRIVILEGES;"]
    if plan.root_password:
        lines.append(f"ALTER USER 'root'@'localhost' IDENTIFIED BY {_sql(plan.root_password)};")
    if plan.root_host not in ("localhost", ""):
        lines.append(f"CREATE USER 'root'@{_sql(plan.root_host)} IDENTIFIED BY {_sql(plan.root_password)};")
        lines.append(f"GRANT ALL PRIVILEGES ON *.* TO 'root'@{_sql(plan.root_host)} WITH GRANT OPTION;")
    lines.append(f"CREATE DATABASE IF NOT EXISTS `{plan.database.replace('`', '``')}`;")
    lines.append(f"CREATE USER {_sql(plan.user)}@'%' IDENTIFIED BY {_sql(plan.password)};")
    lines.append(f"GRANT ALL PRIVILEGES ON `{plan.database.replace('`', '``')}`.* TO {_sql(plan.user)}@'%';")
    return "\n".join(lines) + "\n"


class MariaDbServer:
    """One mariadbd; `data` stands for the StatefulSet's data volume (wiped on restart when not a claim)."""

    def __init__(self, plan: MysqlPlan, directory: Path, data: Path) -> None:
        self.plan = plan
        self.directory = directory
        self.data = data
        self.install_db, self.binary = find_mariadb()
        self.charset, self.collation = server_charset(plan)
        self.port = free_ports(1)[0]
        self.process: LabProcess | None = None
        done = subprocess.run([self.binary, "--version"], capture_output=True, text=True, check=False)
        match = _VERSION.search(done.stdout)
        self.version = match.group(1) if match else "unknown"

    def _flags(self) -> list[str]:
        flags = ["--no-defaults", f"--datadir={self.data}", "--innodb-log-file-size=16M"]
        flags.append(f"--character-set-server={self.charset}")
        if self.collation:
            flags.append(f"--collation-server={self.collation}")
        return flags

    def initialise(self) -> None:
        """An empty data directory gets the entrypoint's database, users and grants."""
        self.data.mkdir(parents=True, exist_ok=True)
        script = self.directory / "init.sql"
        script.write_text(init_sql(self.plan), encoding="utf-8")
        try:
            done = subprocess.run(
                [
                    *unprivileged_prefix(),
                    self.install_db,
                    *self._flags(),
                    "--auth-root-authentication-method=socket",
                    "--skip-test-db",
                    "--skip-name-resolve",
                    f"--extra-file={script}",
                ],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        finally:
            script.unlink(missing_ok=True)  # it holds the passwords
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-5:])
            raise RuntimeError(f"mariadb-install-db failed ({done.returncode}): {tail}")

    def start(self, timeout_s: float = 60.0) -> None:
        if not (self.data / "mysql").is_dir():
            self.initialise()
        argv = [
            self.binary,
            *self._flags(),
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--socket={self.directory / 'mysqld.sock'}",
            f"--pid-file={self.directory / 'mysqld.pid'}",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=64M",
        ]
        self.process = LabProcess("mariadbd", argv, log_path=self.directory / "mariadbd.log", unprivileged=True).start()
        self._wait_ready(timeout_s)

    def _wait_ready(self, timeout_s: float) -> None:
        import pymysql  # heavy third-party client, loaded when a lab starts

        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.process.alive():
                raise RuntimeError(f"mariadbd exited: {self.process.log_tail(8)}")
            try:
                pymysql.connect(
                    host="127.0.0.1",
                    port=self.port,
                    user=self.plan.user,
                    password=self.plan.password,
                    connect_timeout=2,
                ).close()
                return
            except pymysql.err.OperationalError:
                time.sleep(0.05)
        raise RuntimeError(f"mariadbd did not accept the application user within {timeout_s:.0f} s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def restart(self) -> None:
        """Stop, lose the data unless it stands for a claim (a new pod on an emptyDir starts empty), start."""
        self.stop()
        if not self.plan.data.persistent:
            shutil.rmtree(self.data, ignore_errors=True)
        self.start()
