"""Lab process control for real: process groups, unprivileged execution, ports, binaries lookup."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from dbc_validate.labs.postgres_binaries import find_pg_binaries, ordered_candidates
from dbc_validate.tools.processes import (
    OWNER_FILE,
    LabProcess,
    abandoned,
    free_ports,
    process_identity,
    sweep_abandoned_lab_directories,
    wait_for_port,
)


def alive(pid: int) -> bool:
    """Running and not a zombie (an orphan killed here may wait for a reaper that never comes)."""
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (ProcessLookupError, FileNotFoundError):
        return False
    return state != "Z"


def test_kill_takes_the_whole_process_group_down(tmp_path: Path) -> None:
    child_pid_file = tmp_path / "child.pid"
    # The shell starts a grandchild and waits: killing only the shell would leave the grandchild running.
    proc = LabProcess(
        "group", ["sh", "-c", f"sleep 300 & echo $! > {child_pid_file}; wait"], log_path=tmp_path / "log"
    ).start()
    deadline = time.monotonic() + 5
    while not child_pid_file.exists() or not child_pid_file.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    grandchild = int(child_pid_file.read_text())
    proc.kill()
    time.sleep(0.2)
    assert not proc.alive()
    assert not alive(grandchild)


def test_stop_ends_a_process_that_ignores_nothing(tmp_path: Path) -> None:
    proc = LabProcess("sleeper", ["sleep", "300"], log_path=tmp_path / "log").start()
    assert proc.alive()
    proc.stop(timeout_s=5)
    assert not proc.alive() and proc.returncode is not None


def test_unprivileged_processes_do_not_run_as_root(tmp_path: Path) -> None:
    proc = LabProcess("id", ["id", "-u"], log_path=tmp_path / "log", unprivileged=True).start()
    deadline = time.monotonic() + 10
    while proc.alive():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert proc.returncode == 0
    assert proc.log_tail().strip() != "0"


def test_free_ports_are_distinct_and_bindable() -> None:
    ports = free_ports(5)
    assert len(set(ports)) == 5
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_wait_for_port_sees_a_listener_and_gives_up_on_a_dead_process() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert wait_for_port(server.getsockname()[1], timeout_s=5)
    (closed,) = free_ports(1)
    assert not wait_for_port(closed, timeout_s=5, alive=lambda: False)


def test_binary_candidates_follow_the_documented_order() -> None:
    explicit, pg_config, deb15, deb14, wheel = (Path(p) for p in ("/x", "/pgc", "/d/15", "/d/14", "/w"))
    ordered = ordered_candidates(explicit, pg_config, [deb15, deb14, pg_config], wheel)
    assert [p for p, _ in ordered] == [explicit, pg_config, deb15, deb14, wheel]
    assert [p for p, _ in ordered_candidates(None, None, [], None)] == []


def test_postgresql_server_binaries_are_found_on_this_machine() -> None:
    binaries = find_pg_binaries()
    assert (binaries.bindir / "initdb").is_file()
    assert binaries.major >= 13


def test_a_folder_whose_owner_died_is_swept_and_a_live_owners_is_kept(tmp_path: Path) -> None:
    dead = LabProcess("short", ["true"], log_path=tmp_path / "log").start()
    while dead.alive():
        time.sleep(0.05)
    abandoned_folder = tmp_path / "dbc-soak-dead"
    live_folder = tmp_path / "dbc-soak-live"
    foreign_folder = tmp_path / "dbc-unknown"
    for folder in (abandoned_folder, live_folder, foreign_folder):
        folder.mkdir()
    (abandoned_folder / OWNER_FILE).write_text(f"{dead.pid} 12345")
    (live_folder / OWNER_FILE).write_text(process_identity(os.getpid()) or "")
    assert sweep_abandoned_lab_directories(tmp_path) == [abandoned_folder]
    assert not abandoned_folder.exists() and live_folder.exists() and foreign_folder.exists()


def test_a_reused_pid_is_not_mistaken_for_the_owner() -> None:
    me = process_identity(os.getpid())
    assert me is not None
    assert not abandoned(me)
    assert abandoned(f"{os.getpid()} 1")  # same pid, another start time: the owner is gone
    assert not abandoned(None) and not abandoned("")
