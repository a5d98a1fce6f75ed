"""A soak running ahead in a background start, on the real local lab: the session's end stops it cleanly."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest
from helpers import ROOT

from dbc_validate.capabilities import Capability
from dbc_validate.probes.soak.runner import SoakInterrupted
from dbc_validate.probes.soak.store import SAMPLES, SoakStore
from dbc_validate.settings import Settings
from dbc_validate.targets.local import LocalTarget

FIXTURE = ROOT / "fixtures" / "split" / "70-30"


def records(soak_root: Path) -> list[dict]:
    runs = [p.name for p in soak_root.glob("*") if (p / SAMPLES).exists()]
    return list(SoakStore.open(soak_root, runs[0]).records()) if runs else []


def load_processes() -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "locust" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def test_the_session_ending_stops_a_soak_running_ahead_and_the_suite_sees_it_interrupted(tmp_path):
    settings = Settings(
        root=ROOT, manifests=FIXTURE, report_html=tmp_path / "gate1.html", soak_duration_s=50.0, soak_interval_s=1.0
    )
    target = LocalTarget(settings, lambda line: None)
    try:
        assert target.start_in_background([Capability.SOAK, Capability.SOAK_RUN]) == [
            Capability.SOAK,
            Capability.SOAK_RUN,
        ]
        deadline = time.monotonic() + 60
        while sum(r["type"] == "sample" for r in records(tmp_path / "soak")) < 2:
            assert time.monotonic() < deadline, "the soak running ahead wrote no two samples in 60 s"
            time.sleep(0.2)
        assert load_processes(), "the soak's Locust process is not running"
    finally:
        target.stop()  # what the plugin does at the session's end, after a Ctrl-C too
    written = records(tmp_path / "soak")
    assert written[-1]["type"] == "end" and written[-1]["reason"] == "interrupted"
    assert psutil.wait_procs(load_processes(), timeout=10)[1] == [], "the soak's load outlived the session"
    with pytest.raises(SoakInterrupted) as stopped:
        target.provide(Capability.SOAK_RUN).result()
    assert stopped.value.result.summary.samples >= 2
