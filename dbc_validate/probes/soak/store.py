"""A soak run on disk: `reports/soak/<run-id>/samples.jsonl`, one JSON record per line, fsynced per write.

A SIGKILL can only tear the line being written; `repair_tail` cuts it off before a resumed segment appends.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from dbc_validate.errors import InputError

SAMPLES = "samples.jsonl"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


def new_run_id(now: float) -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime(now)) + "-" + secrets.token_hex(2)


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SoakStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.run_id = directory.name
        self.path = directory / SAMPLES
        self._handle: IO[str] | None = None

    @classmethod
    def create(cls, root: Path, now: float) -> SoakStore:
        root.mkdir(parents=True, exist_ok=True)
        directory = root / new_run_id(now)
        directory.mkdir()
        (directory / SAMPLES).touch()
        _fsync_directory(directory)
        _fsync_directory(root)
        return cls(directory)

    @classmethod
    def open(cls, root: Path, run_id: str) -> SoakStore:
        if not _RUN_ID.match(run_id):
            raise InputError(
                f"--soak-resume {run_id!r} is not a soak run id",
                f"pass the id printed when the soak started (a folder name under {root})",
            )
        directory = root / run_id
        if not (directory / SAMPLES).is_file():
            known = sorted(p.name for p in root.iterdir() if (p / SAMPLES).is_file()) if root.is_dir() else []
            raise InputError(
                f"no soak run {run_id!r} under {root}",
                f"pass one of {known[-5:]} to --soak-resume" if known else "start a soak without --soak-resume first",
            )
        return cls(directory)

    def repair_tail(self) -> bool:
        """Cut a torn last line (a write interrupted by SIGKILL); True when something was cut."""
        with open(self.path, "rb+") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            if size == 0:
                return False
            # Walk back to the last newline; everything after it is a partial record.
            position = size
            while position > 0:
                step = min(4096, position)
                handle.seek(position - step)
                chunk = handle.read(step)
                index = chunk.rfind(b"\n")
                if index >= 0:
                    cut = position - step + index + 1
                    break
                position -= step
            else:
                cut = 0
            if cut == size:
                return False
            handle.truncate(cut)
            handle.flush()
            os.fsync(handle.fileno())
            return True

    def append(self, record: Mapping[str, Any]) -> None:
        """Write one record durably: flushed and fsynced before returning."""
        if self._handle is None:
            self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (kept open for the segment)
        self._handle.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def records(self) -> Iterator[dict[str, Any]]:
        """Every complete record in file order (a torn or corrupt line is skipped)."""
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.endswith("\n"):
                    return
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    yield record
