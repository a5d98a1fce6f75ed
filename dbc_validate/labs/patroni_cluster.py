"""A real 3-member Patroni cluster (Raft DCS, no external service): the local stand-in for CloudNativePG.

Each member is a Patroni process started like a container: PID 1 of its own PID namespace. Patroni starts
the postmaster through a helper that calls setsid(), so the postmaster leaves Patroni's process group and
outlives Patroni's death; in its own PID namespace, killing the member's first process makes the kernel
kill everything else in it (postmaster and every backend), exactly as when a pod is deleted. The kill also
SIGKILLs every process it found under the member first, so the fault stays whole where PID namespaces are
unavailable.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import yaml

from dbc_validate.analysis.cnpg_topology import DeclaredDurability
from dbc_validate.analysis.patroni_topology import ClusterView, majority_view, parse_cluster
from dbc_validate.errors import InputError, LabError
from dbc_validate.labs.postgres_binaries import PgBinaries
from dbc_validate.tools.processes import (
    LabProcess,
    free_ports,
    lab_directory,
    register_cleanup,
    remove_directory,
    unprivileged_prefix,
    unregister_cleanup,
)

SCOPE = "dbc-failover"
SUPERUSER = "postgres"
REPLICATION_USER = "replicator"
WRITER_USER = "dbc_writer"
DATABASE = "postgres"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class PatroniTiming:
    """Patroni's failure-detection clock, tuned for fast failover.

    ttl is the leader lock's lifetime: a killed leader is replaced once it expires, so it bounds the write
    gap from below. Patroni refuses ttl < 20 s and loop_wait < 1 s, and requires
    loop_wait + 2 * retry_timeout <= ttl. Defaults (30/10/10) would make every trial take 30-40 s.
    """

    ttl: int = 20
    loop_wait: int = 1
    retry_timeout: int = 5

    def problems(self) -> list[str]:
        found = []
        if self.ttl < 20:
            found.append(f"ttl {self.ttl} < 20 (Patroni raises it to 20)")
        if self.loop_wait < 1:
            found.append(f"loop_wait {self.loop_wait} < 1")
        if self.retry_timeout < 3:
            found.append(f"retry_timeout {self.retry_timeout} < 3")
        if self.loop_wait + 2 * self.retry_timeout > self.ttl:
            found.append("loop_wait + 2 * retry_timeout > ttl")
        return found


@dataclass(frozen=True)
class SyncReplication:
    """Patroni's synchronous replication settings (mirrors CNPG's spec.postgresql.synchronous)."""

    mode: str = "off"  # "off" | "on" (priority, CNPG method first) | "quorum" (CNPG method any)
    node_count: int = 1
    strict: bool = False  # CNPG dataDurability required: no commit without a synchronous standby

    def dcs_settings(self) -> dict[str, Any]:
        if self.mode == "off":
            return {"synchronous_mode": False}
        return {
            "synchronous_mode": "quorum" if self.mode == "quorum" else True,
            "synchronous_node_count": self.node_count,
            "synchronous_mode_strict": self.strict,
        }

    def expected_sync_standbys(self, members: int) -> int:
        """How many standbys Patroni lists as synchronous once settled (quorum mode: every standby votes)."""
        if self.mode == "off":
            return 0
        return members - 1 if self.mode == "quorum" else min(self.node_count, members - 1)

    def describe(self) -> str:
        if self.mode == "off":
            return "asynchronous replication"
        strict = "strict (no commit without a synchronous standby)" if self.strict else "not strict"
        return f"synchronous_mode {self.mode}, {self.node_count} synchronous standby(s), {strict}"


def mirrored_sync(durability: DeclaredDurability) -> SyncReplication:
    """Patroni settings standing in for the declared CNPG replication (method any -> quorum, first -> on)."""
    if not durability.synchronous:
        return SyncReplication()
    mode = "quorum" if durability.method == "any" else "on"
    # Two standbys at most in a 3-member lab.
    return SyncReplication(mode, max(1, min(durability.number, 2)), durability.required)


@dataclass(frozen=True)
class MemberPorts:
    postgres: int
    rest: int
    raft: int


@dataclass(frozen=True)
class Credentials:
    """Per-lab random passwords; they live only in memory, in 0600 config files and in a 0600 passfile."""

    superuser: str = field(default_factory=lambda: secrets.token_hex(16), repr=False)
    replication: str = field(default_factory=lambda: secrets.token_hex(16), repr=False)
    writer: str = field(default_factory=lambda: secrets.token_hex(16), repr=False)


def member_config(
    name: str,
    folder: Path,
    ports: MemberPorts,
    partner_raft_ports: list[int],
    binaries_dir: Path,
    credentials: Credentials,
    timing: PatroniTiming,
    sync: SyncReplication,
) -> dict[str, Any]:
    """The Patroni YAML configuration of one member (pure)."""
    return {
        "scope": SCOPE,
        "name": name,
        "log": {"level": "INFO"},
        "restapi": {"listen": f"{HOST}:{ports.rest}", "connect_address": f"{HOST}:{ports.rest}"},
        "raft": {
            "data_dir": str(folder / "raft"),
            "self_addr": f"{HOST}:{ports.raft}",
            "partner_addrs": [f"{HOST}:{p}" for p in partner_raft_ports],
        },
        "bootstrap": {
            "dcs": {
                "ttl": timing.ttl,
                "loop_wait": timing.loop_wait,
                "retry_timeout": timing.retry_timeout,
                "maximum_lag_on_failover": 16 * 1024 * 1024,
                **sync.dcs_settings(),
                "postgresql": {
                    "use_pg_rewind": True,
                    "use_slots": True,
                    "parameters": {
                        "wal_level": "replica",
                        "hot_standby": "on",
                        "max_wal_senders": 10,
                        "max_replication_slots": 10,
                        "max_connections": 50,
                        "shared_buffers": "16MB",
                    },
                },
            },
            "initdb": [{"encoding": "UTF8"}, {"auth": "scram-sha-256"}],
        },
        "postgresql": {
            "listen": f"{HOST}:{ports.postgres}",
            "connect_address": f"{HOST}:{ports.postgres}",
            "data_dir": str(folder / "data"),
            "bin_dir": str(binaries_dir),
            "pgpass": str(folder / "pgpass.patroni"),
            "authentication": {
                "superuser": {"username": SUPERUSER, "password": credentials.superuser},
                "replication": {"username": REPLICATION_USER, "password": credentials.replication},
            },
            "parameters": {"unix_socket_directories": str(folder)},
            "pg_hba": [
                "local all all trust",
                f"host all all {HOST}/32 scram-sha-256",
                f"host replication {REPLICATION_USER} {HOST}/32 scram-sha-256",
            ],
        },
        "tags": {"nofailover": False, "noloadbalance": False},
    }


def multi_host_dsn(ports: list[int], user: str, passfile: Path, dbname: str = DATABASE, **extra: str) -> str:
    """libpq multi-host DSN that only accepts the read-write member (what an application would use)."""
    params = {
        "host": ",".join(HOST for _ in ports),
        "port": ",".join(str(p) for p in ports),
        "dbname": dbname,
        "user": user,
        "passfile": str(passfile),
        "target_session_attrs": "read-write",
        **extra,
    }
    return " ".join(f"{k}={v}" for k, v in params.items())


@functools.cache
def pid_namespace_prefix() -> tuple[str, ...]:
    """`unshare` argv prefix giving each member its own PID namespace, or () where that is not allowed."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    prefix = (unshare, "--map-current-user", "--pid", "--kill-child", "--mount-proc", "--")

    probe = subprocess.run([*unprivileged_prefix(), *prefix, "true"], capture_output=True, check=False)
    return prefix if probe.returncode == 0 else ()


def _descendants(pid: int | None) -> list[psutil.Process]:
    if pid is None:
        return []
    with contextlib.suppress(psutil.Error):
        return psutil.Process(pid).children(recursive=True)
    return []


class PatroniMember:
    """One member: folder, ports, configuration and its process."""

    def __init__(self, name: str, folder: Path, ports: MemberPorts) -> None:
        self.name = name
        self.folder = folder
        self.ports = ports
        self.process: LabProcess | None = None

    @property
    def config_path(self) -> Path:
        return self.folder / "patroni.yml"

    @property
    def log_path(self) -> Path:
        return self.folder / "patroni.log"

    @property
    def rest_url(self) -> str:
        return f"http://{HOST}:{self.ports.rest}"

    def write_config(self, config: Mapping[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config_path.touch(mode=0o600)
        self.config_path.write_text(yaml.safe_dump(dict(config), sort_keys=False), encoding="utf-8")

    def start(self) -> None:
        argv = [*pid_namespace_prefix(), sys.executable, "-m", "patroni", str(self.config_path)]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PATRONI_", "PG"))}
        self.process = LabProcess(
            f"patroni-{self.name}", argv, log_path=self.log_path, cwd=self.folder, env=env, unprivileged=True
        ).start()

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()

    def kill(self) -> tuple[float, list[int]]:
        """SIGKILL Patroni, its postmaster and every backend at once (like deleting a pod with grace 0).

        Returns (wall-clock time the first signal was sent, pids killed); waits until they are all gone.
        """
        if self.process is None:
            return time.time(), []
        victims = _descendants(self.process.pid) + self._orphaned_postmaster()
        fault_at = time.time()  # after the slow process enumeration: the member serves until this moment
        self.process.kill()
        for proc in victims:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(signal.SIGKILL)
        psutil.wait_procs(victims, timeout=10)
        return fault_at, [p.pid for p in victims] + ([self.process.pid] if self.process.pid else [])

    def stop(self) -> None:
        """Kill the member for good: the lab is thrown away, so nothing needs a graceful shutdown."""
        self.kill()

    def _orphaned_postmaster(self) -> list[psutil.Process]:
        """Without a PID namespace the postmaster is re-parented away from Patroni: find it by postmaster.pid."""
        if pid_namespace_prefix():
            return []  # pids in postmaster.pid are the namespace's own; the namespace holds everything anyway
        try:
            pid = int((self.folder / "data" / "postmaster.pid").read_text().split()[0])
            postmaster = psutil.Process(pid)
            if postmaster.name() != "postgres":
                return []
            return [postmaster, *postmaster.children(recursive=True)]
        except (OSError, ValueError, IndexError, psutil.Error):
            return []

    def pids(self) -> list[int]:
        """Pids of the member's process tree (empty when it is not running)."""
        if not self.alive() or self.process is None or self.process.pid is None:
            return []
        return [self.process.pid, *(p.pid for p in _descendants(self.process.pid))]


class PatroniCluster:
    """Start, observe, break and remove a local Patroni cluster."""

    def __init__(
        self,
        binaries: PgBinaries,
        *,
        members: int = 3,
        timing: PatroniTiming | None = None,
        sync: SyncReplication | None = None,
        progress: Callable[[str], None] = lambda message: None,
        root: Path | None = None,
    ) -> None:
        self.binaries = binaries
        self.timing = timing or PatroniTiming()
        problems = self.timing.problems()
        if problems:
            raise InputError(f"bad Patroni timing: {'; '.join(problems)}", "keep ttl >= 20, loop_wait >= 1")
        self.sync = sync or SyncReplication()
        self.progress = progress
        self.root = root or lab_directory("patroni")
        self.credentials = Credentials()
        ports = free_ports(3 * members)
        self.members = [
            PatroniMember(
                f"pg{i + 1}", self.root / f"pg{i + 1}", MemberPorts(ports[3 * i], ports[3 * i + 1], ports[3 * i + 2])
            )
            for i in range(members)
        ]
        self.passfile = self.root / "pgpass"
        self.started_in_s: float | None = None

    @property
    def description(self) -> str:
        return f"local Patroni lab ({len(self.members)} members, Raft DCS, {self.sync.describe()})"

    # ---- lifecycle ---------------------------------------------------------------------------------

    def start(self, timeout_s: float = 90.0) -> PatroniCluster:
        begin = time.monotonic()
        register_cleanup(self.stop)  # at exit, even when the harness is interrupted before stop()
        self.progress(f"patroni lab: starting {len(self.members)} members under {self.root} ({self.sync.describe()})")
        raft_ports = [m.ports.raft for m in self.members]
        for member in self.members:
            partners = [p for p in raft_ports if p != member.ports.raft]
            member.write_config(
                member_config(
                    member.name,
                    member.folder,
                    member.ports,
                    partners,
                    self.binaries.bindir,
                    self.credentials,
                    self.timing,
                    self.sync,
                )
            )
        self._write_passfile()
        try:
            for member in self.members:
                member.start()
            view = self.wait_healthy(timeout_s)
            self._prepare_database()
        except BaseException:
            self.stop()  # a failed or interrupted start leaves nothing behind (the error carries the log tails)
            raise
        self.started_in_s = time.monotonic() - begin
        self.progress(f"patroni lab: healthy in {self.started_in_s:.1f} s, leader {view.leader}")
        return self

    def stop(self) -> None:
        """Stop every member and remove the lab folder (safe to call twice)."""
        unregister_cleanup(self.stop)
        for member in self.members:
            member.stop()
        remove_directory(self.root)

    def __enter__(self) -> PatroniCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _write_passfile(self) -> None:
        lines = [
            f"{HOST}:{m.ports.postgres}:*:{user}:{password}"
            for m in self.members
            for user, password in (
                (SUPERUSER, self.credentials.superuser),
                (WRITER_USER, self.credentials.writer),
            )
        ]
        self.passfile.touch(mode=0o600)
        self.passfile.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _prepare_database(self) -> None:
        import psycopg  # heavy: psycopg loads only when a lab starts

        with psycopg.connect(self.dsn(user=SUPERUSER), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (WRITER_USER,)).fetchone()
            if not exists:
                # The password goes in as a literal because CREATE ROLE takes no parameters; it is never logged.
                conn.execute(f"CREATE ROLE {WRITER_USER} LOGIN PASSWORD '{self.credentials.writer}'")
            conn.execute(f"GRANT CREATE ON SCHEMA public TO {WRITER_USER}")

    # ---- endpoints ---------------------------------------------------------------------------------

    def dsn(self, user: str = WRITER_USER, **extra: str) -> str:
        """The read-write endpoint as a multi-host DSN (no password in it: libpq reads the lab's passfile)."""
        return multi_host_dsn([m.ports.postgres for m in self.members], user, self.passfile, **extra)

    def member(self, name: str) -> PatroniMember:
        for member in self.members:
            if member.name == name:
                return member
        raise KeyError(name)

    def rest(
        self, member: PatroniMember, path: str, body: Mapping[str, Any] | None = None, timeout_s: float = 3.0
    ) -> tuple[int, Any]:
        """(HTTP status, decoded JSON or text) of a REST call to `member`; raises OSError when unreachable."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(member.rest_url + path, data=data, method="POST" if body else "GET")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        text = raw.decode(errors="replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def views(self) -> list[ClusterView]:
        """Each live member's own `/cluster` view (a member that just restarted may still replay an old one)."""
        found = []
        for member in self.members:
            if not member.alive():
                continue
            with contextlib.suppress(OSError, ValueError):
                status, payload = self.rest(member, "/cluster")
                if status == 200 and isinstance(payload, dict):
                    found.append(parse_cluster(payload))
        return found

    def view(self) -> ClusterView | None:
        """The topology most live members report (Raft replicas can lag: one member alone may be stale)."""
        return majority_view(self.views())

    def wait_healthy(self, timeout_s: float = 90.0) -> ClusterView:
        """Wait until every member runs: one leader, the others streaming from it, all members agreeing."""
        deadline = time.monotonic() + timeout_s
        expected = len(self.members)
        last: ClusterView | None = None
        while time.monotonic() < deadline:
            dead = [m.name for m in self.members if m.process is not None and not m.alive()]
            if dead:
                raise LabError(f"patroni member(s) {', '.join(dead)} exited:\n{self.log_tails(dead)}")
            views = self.views()
            last = majority_view(views)
            agreed = len(views) == expected and len({v.summary() for v in views}) == 1
            if agreed and last is not None and last.healthy(expected, self.sync.expected_sync_standbys(expected)):
                return last
            time.sleep(0.2)
        raise LabError(
            f"patroni lab not healthy after {timeout_s:.0f} s (last topology: {last.summary() if last else 'none'})"
            f":\n{self.log_tails()}"
        )

    def log_tails(self, names: list[str] | None = None, lines: int = 15) -> str:
        chosen = [m for m in self.members if names is None or m.name in names]
        return "\n".join(f"--- {m.name} ---\n{m.process.log_tail(lines) if m.process else ''}" for m in chosen)

    # ---- faults ------------------------------------------------------------------------------------

    def kill_member(self, name: str) -> float:
        """SIGKILL the whole member; returns the fault's wall-clock time (time.time())."""
        member = self.member(name)
        fault_at, killed = member.kill()
        self.progress(f"patroni lab: killed member {name} (pids {', '.join(map(str, killed))})")
        return fault_at

    def restart_member(self, name: str) -> None:
        """Start a killed member again (like the operator recreating a deleted pod); does not wait."""
        member = self.member(name)
        if member.alive():
            return
        member.start()
        self.progress(f"patroni lab: restarted member {name}")

    def switchover(self, leader: str, candidate: str | None = None) -> float:
        """Graceful switchover through REST POST /switchover; returns the request's wall-clock time."""
        body: dict[str, Any] = {"leader": leader}
        if candidate:
            body["candidate"] = candidate
        target = next(m for m in self.members if m.alive())
        requested_at = time.time()
        # Patroni answers once the new leader runs (it polls for the result up to about 30 s).
        status, payload = self.rest(target, "/switchover", body, timeout_s=60)
        if status != 200:
            raise LabError(f"switchover from {leader} refused: HTTP {status} {payload}")
        self.progress(f"patroni lab: switchover from {leader} requested ({payload})")
        return requested_at

    def pids(self) -> list[int]:
        return [pid for m in self.members for pid in m.pids()]
