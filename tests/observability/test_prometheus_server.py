"""The Prometheus lab process for real: ready on a free port, extra flags applied, and nothing left after stop,
after a bad config, or when the binary is missing."""

from __future__ import annotations

import json
import socket
import tempfile
import urllib.request
from pathlib import Path

import pytest

from dbc_validate.errors import LabError, MissingBinary
from dbc_validate.labs.prometheus_server import PrometheusServer, running_prometheus, start_prometheus

CONFIG = """
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
scrape_configs: []
"""


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _config(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "prometheus.yml"
    path.write_text(text, encoding="utf-8")
    return path


def _assert_gone(server: PrometheusServer) -> None:
    assert not server.process.alive()
    assert not _processes_mentioning(str(server.storage_dir))
    assert not _port_open(server.port)
    assert not server.log_dir.exists()


def test_starts_ready_answers_the_api_and_stops_leaving_nothing(tmp_path: Path) -> None:
    storage = tmp_path / "tsdb"
    server = start_prometheus(_config(tmp_path), storage)
    try:
        with urllib.request.urlopen(f"{server.url}/api/v1/query?query=vector(7)", timeout=5) as response:
            body = json.loads(response.read())
        assert body["data"]["result"][0]["value"][1] == "7"
        assert server.version.startswith("2.")
        assert storage.is_dir()  # Prometheus wrote its TSDB where it was told
    finally:
        server.stop()
    _assert_gone(server)
    assert storage.is_dir(), "the caller's storage folder is the caller's: stop() keeps it"


def test_extra_flags_reach_prometheus(tmp_path: Path) -> None:
    with running_prometheus(_config(tmp_path), tmp_path / "tsdb", extra_flags=["--web.enable-lifecycle"]) as server:
        request = urllib.request.Request(f"{server.url}/-/reload", method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200  # 403 "Lifecycle API is not enabled" without the flag
    _assert_gone(server)


def test_a_bad_config_is_a_lab_error_with_the_reason_and_nothing_left(tmp_path: Path) -> None:
    config = _config(tmp_path, "global: {scrape_interval: 1s, scrape_timeout: 5s}\n")  # timeout > interval
    log_dirs_before = set(Path(tempfile.gettempdir()).glob("dbc-prometheus-*"))
    with pytest.raises(LabError, match="scrape timeout greater than scrape interval"):
        start_prometheus(config, tmp_path / "tsdb")
    assert not _processes_mentioning(str(tmp_path / "tsdb"))
    assert set(Path(tempfile.gettempdir()).glob("dbc-prometheus-*")) <= log_dirs_before


def test_the_context_manager_stops_prometheus_when_the_body_raises(tmp_path: Path) -> None:
    seen: list[PrometheusServer] = []
    with pytest.raises(KeyboardInterrupt), running_prometheus(_config(tmp_path), tmp_path / "tsdb") as server:
        seen.append(server)
        raise KeyboardInterrupt
    _assert_gone(seen[0])


def test_a_missing_binary_names_the_apt_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingBinary, match="apt-get install -y --no-install-recommends prometheus"):
        start_prometheus(_config(tmp_path), tmp_path / "tsdb")
