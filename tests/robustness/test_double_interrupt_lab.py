"""Two Ctrl-C one second apart during a real lab run (the soak's Traefik, backends and load): the report is
written, the soak's samples so far are in it with the run id and the resume command, nothing is left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from helpers import ROOT, criterion, read_report

FIXTURE = ROOT / "fixtures" / "split" / "70-30"
SUITE = ROOT / "suites" / "gate1" / "test_soak.py"


def samples(soak_root: Path) -> int:
    return sum(p.read_text().count('"type":"sample"') for p in soak_root.glob("*/samples.jsonl"))


def test_two_ctrl_c_one_second_apart_leave_the_report_with_the_soak_so_far(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_soak=SUITE.read_text())
    html = pytester.path / "reports" / "gate1.html"
    args = ["test_soak.py", "--target", "local", "--manifests", str(FIXTURE), "--gate1-report", str(html)]
    args += ["-p", "no:cacheprovider", "--soak-duration", "60s", "--soak-interval", "1s"]
    log_path = pytester.path / "run.log"
    with log_path.open("wb") as log:
        run = subprocess.Popen(
            [sys.executable, "-m", "pytest", *args], stdout=log, stderr=subprocess.STDOUT, cwd=pytester.path
        )
        try:
            deadline = time.monotonic() + 120
            while samples(pytester.path / "reports" / "soak") < 3 and time.monotonic() < deadline:
                assert run.poll() is None, log_path.read_text()
                time.sleep(0.1)
            assert samples(pytester.path / "reports" / "soak") >= 3, "the soak never wrote three samples"
            children = psutil.Process(run.pid).children(recursive=True)
            os.kill(run.pid, signal.SIGINT)
            time.sleep(1)
            if run.poll() is None:
                os.kill(run.pid, signal.SIGINT)
            code = run.wait(timeout=120)
        finally:
            if run.poll() is None:
                run.kill()
    output = log_path.read_text()
    assert code == pytest.ExitCode.INTERRUPTED, output
    assert "Traceback" not in output
    assert sum("dbc_validate: SIGINT deferred" in line for line in output.splitlines()) == 1, output
    report = read_report(html)
    soak = criterion(report, "stability.soak")
    run_id = soak["measured"]["run_id"]
    assert soak["status"] == "PASSED_BELOW_GATE" and not soak["meets_gate"], soak
    assert soak["measured"]["samples"] >= 3
    assert soak["short_of"][0].startswith(f"interrupted: soak {run_id}: ")
    assert soak["measured"]["resume_command"].endswith(f"--soak-duration 60s --soak-interval 1s --soak-resume {run_id}")
    assert report["verdict"] == "INCOMPLETE"
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, [p.info for p in alive]
