"""Paths and small readers the harness's own tests share (tests/ is on sys.path through tests/conftest.py)."""

from __future__ import annotations

import contextlib
import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
MANIFESTS = ROOT / "manifests"
KIND_OVERLAY = MANIFESTS / "overlays" / "kind"
SUITES = ROOT / "suites" / "gate1"

# libyaml's loader when PyYAML has it: about ten times faster than yaml.safe_load on the larger API-object fixtures.
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    """The data of a one-document YAML file."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)


def read_report(html: Path) -> dict[str, Any]:
    """The gate1.json written beside a gate1.html report."""
    return json.loads(html.with_suffix(".json").read_text(encoding="utf-8"))


def criterion(report: dict[str, Any], criterion_id: str) -> dict[str, Any]:
    """One criterion's entry of a gate1.json report."""
    return next(c for c in report["criteria"] if c["id"] == criterion_id)


def run_suite(
    pytester: pytest.Pytester, suite: Path, *args: str, subprocess: bool = False, copy: bool = True
) -> tuple[pytest.RunResult, dict[str, Any]]:
    """Run one Gate 1 suite file from pytester's folder (copied there, or in place when it reads files beside it),
    its report under pytester.path/reports; gives the run and its gate1.json ({} when none was written)."""
    if copy:
        shutil.copy(suite, pytester.path / suite.name)
    html = pytester.path / "reports" / "gate1.html"
    argv = [suite.name if copy else str(suite), f"--rootdir={pytester.path}", "-p", "no:cacheprovider", "-rs"]
    argv += [f"--gate1-report={html}", *args]
    result = pytester.runpytest_subprocess(*argv, timeout=600) if subprocess else pytester.runpytest(*argv)
    return result, read_report(html) if html.with_suffix(".json").exists() else {}


@contextlib.contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[ThreadingHTTPServer]:
    """`handler` served on a free loopback port in a thread, for the length of the block (stopped within 0.05 s)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
