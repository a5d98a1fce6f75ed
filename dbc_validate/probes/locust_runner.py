"""Start the Locust worker process and read its events, without importing Locust into this process."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dbc_validate.tools.processes import LabProcess


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
