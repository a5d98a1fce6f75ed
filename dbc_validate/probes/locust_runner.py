"""Start the Locust process(es) and read their events, without importing Locust into this process.

One process (`LocustWorker`), or a Locust master plus local worker processes (`LoadGenerator` with a
distributed `LoadTopology`); either way the events come from the one deciding process, in the same shape."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dbc_validate.probes.load_topology import LoadTopology
from dbc_validate.tools.processes import LabProcess, free_ports


class EventTail:
    """New complete JSON lines of a growing file, read incrementally (constant memory however long it grows)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = b""

    def read(self) -> Iterator[dict[str, Any]]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except FileNotFoundError:
            return
        self._offset += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()  # an unfinished last line waits for the next read
        for line in lines:
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError:
                    continue


class LocustWorker:
    """One `locust_worker` process for one job (see that module for the job's keys and the events)."""

    def __init__(self, job: dict[str, Any], directory: Path, name: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.events_path = directory / f"{name}.events.jsonl"
        self.events_path.unlink(missing_ok=True)
        job_path = directory / f"{name}.job.json"
        job_path.write_text(json.dumps({**job, "events_path": str(self.events_path)}), encoding="utf-8")
        self.process = LabProcess(
            name,
            [sys.executable, "-m", "dbc_validate.probes.locust_worker", str(job_path)],
            log_path=directory / f"{name}.log",
        )
        self.tail = EventTail(self.events_path)

    def start(self) -> LocustWorker:
        self.process.start()
        return self

    def alive(self) -> bool:
        return self.process.alive()

    def events(self) -> Iterator[dict[str, Any]]:
        return self.tail.read()

    def stop(self) -> None:
        self.process.stop(timeout_s=5.0)

    def failure(self) -> str:
        """Why the worker ended without its result (its log's last lines)."""
        return f"the Locust worker exited with code {self.process.returncode}: {self.process.log_tail(15)}"


def worker_argv(master_host: str, master_port: int) -> list[str]:
    """The command line of one Locust worker joining the master (the same on another machine)."""
    return [sys.executable, "-m", "dbc_validate.probes.locust_worker", "--worker", f"{master_host}:{master_port}"]


class LoadGenerator:
    """The load for one job: a single Locust process, or a master with `topology.workers` local worker processes
    (and room for remote ones). Same interface as LocustWorker; the master writes the events."""

    def __init__(self, job: dict[str, Any], directory: Path, name: str, topology: LoadTopology) -> None:
        self.topology = topology
        self.workers: list[LabProcess] = []
        if not topology.distributed:
            self.master = LocustWorker(job, directory, name)
            return
        if topology.master_bind is not None:
            bind_host, port = topology.master_bind
        else:
            bind_host, port = "127.0.0.1", free_ports(1)[0]
        connect_host = "127.0.0.1" if bind_host in ("0.0.0.0", "*", "::") else bind_host
        spec = {
            "bind_host": bind_host,
            "bind_port": port,
            "expect_workers": topology.total_workers,
            "join_timeout_s": topology.join_timeout_s,
        }
        self.master = LocustWorker({**job, "distributed": spec}, directory, name)
        self.address = (connect_host, port)
        self.workers = [
            LabProcess(f"{name}-worker-{i}", worker_argv(connect_host, port), log_path=directory / f"{name}-w{i}.log")
            for i in range(topology.workers)
        ]

    @property
    def events_path(self) -> Path:
        return self.master.events_path

    def start(self) -> LoadGenerator:
        self.master.start()
        for worker in self.workers:
            if not worker.alive():
                worker.start()
        return self

    def alive(self) -> bool:
        return self.master.alive()

    def events(self) -> Iterator[dict[str, Any]]:
        return self.master.events()

    def stop(self) -> None:
        self.master.stop()
        for worker in self.workers:
            worker.stop(timeout_s=5.0)

    def failure(self) -> str:
        return self.master.failure()
