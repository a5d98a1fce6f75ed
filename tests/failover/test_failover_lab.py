"""The Patroni lab for real: a real failover and switchover under a writer, the in-cluster writer script run
against it, and nothing (no process, no folder) left after a normal end, a failure, Ctrl-C or a SIGKILL."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import psutil
import pytest

from dbc_validate.analysis import cnpg_topology as cnpg
from dbc_validate.analysis.failover_log import parse_writer_log
from dbc_validate.errors import LabError
from dbc_validate.labs.patroni_cluster import WRITER_USER, PatroniCluster
from dbc_validate.labs.postgres_binaries import PgBinaries, find_pg_binaries
from dbc_validate.probes.failover_patroni import PatroniBackend
from dbc_validate.probes.failover_trials import TrialPlan, run_trial
from dbc_validate.probes.failover_writer import CREATE_TABLE, TABLE

PLAN = TrialPlan(window_s=60, heal_timeout_s=90)


def progress(message: str) -> None:
    print(f"[lab] {message}", file=sys.stderr)


def leftovers(root: Path, processes: list[psutil.Process]) -> list[str]:
    """Processes still running from a lab: the ones seen before, or any naming the lab folder."""
    alive = {}
    for proc in processes:
        if _running(proc):
            try:
                alive[proc.pid] = " ".join(proc.cmdline())
            except psutil.Error:
                continue  # it died between the two questions
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(root) in cmdline and proc.pid != os.getpid():
            alive[proc.pid] = cmdline
    return [f"{pid}: {cmd}" for pid, cmd in sorted(alive.items())]


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def wait_gone(root: Path, processes: list[psutil.Process], timeout_s: float = 15) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while (left := leftovers(root, processes)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def existing(pids: list[int]) -> list[psutil.Process]:
    """Process handles for the pids still there (short-lived helpers may be gone already)."""
    found = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            found.append(psutil.Process(pid))
    return found


@pytest.fixture(scope="module")
def lab() -> Iterator[PatroniCluster]:
    cluster = PatroniCluster(find_pg_binaries(), progress=progress)
    with ExitStack() as stack:
        stack.callback(cluster.stop)
        cluster.start()
        yield cluster
    assert not cluster.root.exists()


class WatchedKill(PatroniBackend):
    """The lab's backend, remembering the killed member's processes to check they all died with it."""

    victims: list[psutil.Process]
    names: set[str]
    survivors: list[str]

    def inject(self, primary: str, graceful: bool) -> tuple[float, str]:
        self.victims = existing(self.lab.member(primary).pids())
        self.names = {p.name() for p in self.victims}
        result = super().inject(primary, graceful)
        self.survivors = [f"{p.pid} {p.name()}" for p in self.victims if _running(p)]
        return result


def test_killing_the_leader_member_takes_patroni_and_its_postmaster_down_and_a_replica_takes_over(
    lab: PatroniCluster,
) -> None:
    backend = WatchedKill(lab)
    outcome = run_trial(backend, 1, plan=PLAN, progress=progress)
    figures = outcome.figures
    assert "postgres" in backend.names and any(n.startswith("python") for n in backend.names), backend.names
    assert backend.survivors == []  # postmaster and backends died with Patroni, like a deleted pod
    assert figures.new_primary not in (None, figures.old_primary)
    assert figures.write_gap_s is not None and 0 < figures.write_gap_s < PLAN.window_s
    assert figures.fault_to_new_primary_s is not None and figures.fault_to_new_primary_s > 0
    assert figures.acknowledged > PLAN.warmup_acks
    # processes of a killed member die in some order: a backend may still report its postmaster's exit
    expected_kinds = {"no_primary", "refused", "connection_lost", "not_ready"}
    assert figures.errors > 0 and set(figures.error_kinds) <= expected_kinds, figures.error_kinds
    acked = {a.seq for a in outcome.log.attempts if a.acked}
    assert set(figures.lost) <= acked and set(outcome.log.present) <= {a.seq for a in outcome.log.attempts}
    # the killed member came back as a streaming replica
    view = lab.view()
    assert view is not None and view.healthy(3) and view.leader == figures.new_primary


def test_switchover_hands_over_in_seconds_without_losing_a_write(lab: PatroniCluster) -> None:
    outcome = run_trial(PatroniBackend(lab), 2, graceful=True, plan=PLAN, progress=progress)
    figures = outcome.figures
    assert figures.fault == "switchover"
    assert figures.new_primary not in (None, figures.old_primary)
    assert figures.write_gap_s is not None and figures.write_gap_s < 15
    assert figures.lost == () and figures.duplicates == ()


def test_in_cluster_writer_script_writes_and_logs_through_a_switchover_against_the_lab(
    lab: PatroniCluster, tmp_path: Path
) -> None:
    """The bash+psql writer the CNPG path runs in a pod, run here against the lab's multi-host endpoint."""
    lab.wait_healthy(60)
    ports = [m.ports.postgres for m in lab.members]
    env = {
        **os.environ,
        "PATH": f"{lab.binaries.bindir}:{os.environ['PATH']}",
        "PGHOST": ",".join("127.0.0.1" for _ in ports),
        "PGPORT": ",".join(map(str, ports)),
        "PGUSER": WRITER_USER,
        "PGDATABASE": "postgres",
        "PGPASSFILE": str(lab.passfile),
        "RUN_ID": "shell-1",
        "STOP_FILE": str(tmp_path / "stop"),
    }
    log_path = tmp_path / "writer.log"
    with open(log_path, "w") as log:
        script = cnpg.writer_script(TABLE, CREATE_TABLE)
        writer = subprocess.Popen(["bash", "-c", script], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while log_path.read_text().count("\tack\t") < 10 and time.monotonic() < deadline:
            time.sleep(0.1)
        leader = lab.view().leader  # type: ignore[union-attr]
        lab.switchover(leader)  # type: ignore[arg-type]
        lab.wait_healthy(60)
        time.sleep(1)
        (tmp_path / "stop").touch()
        assert writer.wait(timeout=30) == 0
    finally:
        writer.kill()
    parsed = parse_writer_log(log_path.read_text())
    acked = {a.seq for a in parsed.attempts if a.acked}
    assert len(acked) >= 10
    kinds = {a.kind for a in parsed.attempts if not a.acked}
    assert kinds <= {"no_primary", "refused", "connection_lost", "admin_shutdown", "not_ready"}, kinds
    assert [a.seq for a in parsed.attempts if a.acked] == sorted(acked)  # numbered in order, retried until acked
    # read back the way the CNPG path does (psql -AtX -F tab printing `present` lines), as the superuser
    argv = cnpg.exec_psql(lab.dsn(user="postgres"), cnpg.present_query(TABLE, "shell-1"))  # -d takes a DSN too
    done = subprocess.run([lab.binaries.program(argv[0]), *argv[1:]], capture_output=True, text=True, check=True)
    present = parse_writer_log(done.stdout).present or {}
    assert acked <= set(present)  # a switchover loses no acknowledged write


@pytest.mark.parametrize("ending", ["normal end", "failure inside"])
def test_nothing_is_left_after_the_lab_ends(ending: str) -> None:
    lab = PatroniCluster(find_pg_binaries(), progress=progress)
    seen: list[psutil.Process] = []
    with pytest.raises(RuntimeError) if ending == "failure inside" else ExitStack(), lab:
        seen = existing(lab.pids())
        assert any(p.name() == "postgres" for p in seen)
        if ending == "failure inside":
            raise RuntimeError("a check failed while the lab ran")
    assert wait_gone(lab.root, seen) == []
    assert not lab.root.exists()


def test_nothing_is_left_when_the_lab_cannot_start(tmp_path: Path) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    for name in ("initdb", "postgres", "pg_ctl", "pg_controldata"):
        (fake / name).write_text("#!/bin/sh\necho refusing >&2\nexit 1\n")
        (fake / name).chmod(0o755)
    lab = PatroniCluster(PgBinaries(fake, 15, "broken on purpose"), progress=progress)
    with pytest.raises(LabError, match=r"exited|not healthy"), lab:
        pass
    assert wait_gone(lab.root, []) == []
    assert not lab.root.exists()


HARNESS = textwrap.dedent(
    """
    import sys, time
    from dbc_validate.labs.postgres_binaries import find_pg_binaries
    from dbc_validate.labs.patroni_cluster import PatroniCluster
    lab = PatroniCluster(find_pg_binaries())
    print("ROOT", lab.root, flush=True)
    lab.start()
    print("PIDS", *lab.pids(), flush=True)
    time.sleep(600)
    """
)


def run_harness(until: str) -> tuple[subprocess.Popen[str], Path, list[psutil.Process]]:
    """A harness process owning a lab, read until its output shows `until` (ROOT or PIDS)."""
    proc = subprocess.Popen([sys.executable, "-c", HARNESS], stdout=subprocess.PIPE, text=True)
    root, seen = None, []
    assert proc.stdout is not None
    for line in proc.stdout:
        word, *rest = line.split()
        if word == "ROOT":
            root = Path(rest[0])
        if word == "PIDS":
            seen = existing([int(pid) for pid in rest])
        if word == until:
            break
    assert root is not None
    return proc, root, seen


@pytest.mark.parametrize("moment", ["ROOT", "PIDS"], ids=["during start", "while running"])
def test_ctrl_c_stops_every_process_and_removes_the_folder(moment: str) -> None:
    proc, root, seen = run_harness(moment)
    if moment == "ROOT":
        deadline = time.monotonic() + 20  # wait until members are booting, then interrupt
        while not list(root.glob("pg*/data/postmaster.pid")) and time.monotonic() < deadline:
            time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    assert wait_gone(root, seen) == []
    assert not root.exists()


def test_a_killed_harness_leaves_no_process(tmp_path: Path) -> None:
    """SIGKILL cannot run cleanups: the members die with it (parent-death signal, PID namespaces); only the
    temporary folder stays behind."""
    proc, root, seen = run_harness("PIDS")
    proc.kill()
    proc.wait(timeout=10)
    try:
        assert wait_gone(root, seen) == []
    finally:
        subprocess.run(["rm", "-rf", str(root)], check=False)
