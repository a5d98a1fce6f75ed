"""One real Prometheus process on a free loopback port, over a given config file and TSDB folder.

Used by the observability lab (live scraping) and to query a backfilled TSDB. The caller owns the config
file and the storage folder; this module owns only the process and its log folder, both gone after `stop()`.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dbc_validate.errors import LabError
from dbc_validate.tools.binaries import find_program
from dbc_validate.tools.processes import LabProcess, free_ports, lab_directory, remove_directory

_VERSION = re.compile(r"prometheus, version (\S+)")
_PORT_TAKEN = "address already in use"


def find_prometheus() -> str:
    """Path of the `prometheus` binary ($DBC_PROMETHEUS, then PATH); MissingBinary names the apt command."""
    return find_program("prometheus")


def prometheus_version(binary: str) -> str:
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30, check=False)
    match = _VERSION.search(done.stdout + done.stderr)
    return match.group(1) if match else "unknown"


def _ready(url: str) -> bool:
    with (
        contextlib.suppress(OSError, urllib.error.URLError, ValueError),
        urllib.request.urlopen(f"{url}/-/ready", timeout=1.0) as response,
    ):
        return response.status == 200
    return False


@dataclass
class PrometheusServer:
    """A running Prometheus: `url` answers the HTTP API; `stop()` ends it and removes its log folder."""

    binary: str
    version: str
    port: int
    config_file: Path
    storage_dir: Path
    process: LabProcess
    log_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 20) -> str:
        return self.process.log_tail(lines)

    def stop(self) -> None:
        self.process.stop()
        remove_directory(self.log_dir)


def _wait_ready(server: PrometheusServer, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not server.process.alive():
            raise LabError(f"Prometheus exited (code {server.process.returncode}): {server.log_tail()}")
        if _ready(server.url):
            return
        time.sleep(0.05)
    raise LabError(f"Prometheus was not ready within {timeout_s:.0f} s: {server.log_tail()}")


def start_prometheus(
    config_file: Path,
    storage_dir: Path,
    *,
    extra_flags: Sequence[str] = (),
    timeout_s: float = 30.0,
    progress: Callable[[str], None] = lambda _line: None,
) -> PrometheusServer:
    """Start Prometheus and return once `/-/ready` answers 200; on any failure nothing is left running.

    `extra_flags` are appended as given (e.g. `--storage.tsdb.retention.time=30d`, `--web.enable-lifecycle`).
    Raises MissingBinary when Prometheus is not installed and LabError when it exits or never gets ready.
    """
    binary = find_prometheus()
    version = prometheus_version(binary)
    storage_dir.mkdir(parents=True, exist_ok=True)
    for attempt in range(3):
        log_dir = lab_directory("prometheus")
        port = free_ports(1)[0]
        argv = [
            binary,
            f"--config.file={config_file}",
            f"--storage.tsdb.path={storage_dir}",
            f"--web.listen-address=127.0.0.1:{port}",
            *extra_flags,
        ]
        process = LabProcess("prometheus", argv, log_path=log_dir / "prometheus.log", cwd=log_dir)
        server = PrometheusServer(binary, version, port, config_file, storage_dir, process, log_dir)
        progress(f"prometheus: starting {version} on {server.url} (config {config_file}, TSDB {storage_dir})")
        try:
            process.start()
            _wait_ready(server, timeout_s)
            return server
        except LabError:
            taken = _PORT_TAKEN in server.log_tail(50)
            server.stop()
            # Another program may take the port between free_ports() and the bind: pick another one.
            if not taken or attempt == 2:
                raise
        except BaseException:
            server.stop()
            raise
    raise AssertionError("unreachable")


@contextlib.contextmanager
def running_prometheus(
    config_file: Path,
    storage_dir: Path,
    *,
    extra_flags: Sequence[str] = (),
    timeout_s: float = 30.0,
    progress: Callable[[str], None] = lambda _line: None,
) -> Iterator[PrometheusServer]:
    """`start_prometheus` as a context manager: stopped on exit, Ctrl-C included."""
    server = start_prometheus(config_file, storage_dir, extra_flags=extra_flags, timeout_s=timeout_s, progress=progress)
    try:
        yield server
    finally:
        server.stop()
