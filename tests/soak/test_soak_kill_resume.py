"""The soak suite end to end: SIGKILL in the middle, --soak-resume, the stitched report; and a failing budget."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from helpers import ROOT, criterion

FIXTURE = ROOT / "fixtures" / "split" / "70-30"
SUITE = ROOT / "suites" / "gate1" / "test_soak.py"


def suite_args(html: Path, *extra: str) -> list[str]:
    return [
        "--target",
        "local",
        "--manifests",
        str(FIXTURE),
        "--gate1-report",
        str(html),
        "-p",
        "no:cacheprovider",
        *extra,
    ]


def samples_written(soak_root: Path) -> tuple[str, int] | None:
    for run in soak_root.glob("*/samples.jsonl"):
        return run.parent.name, sum(1 for line in run.read_text().splitlines() if '"type":"sample"' in line)
    return None


def test_a_soak_killed_with_sigkill_resumes_and_the_report_stitches_the_segments(pytester):
    pytester.makepyfile(test_soak=SUITE.read_text())
    html = pytester.path / "reports" / "gate1.html"
    log = (pytester.path / "first.log").open("wb")
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "test_soak.py",
            *suite_args(html, "--soak-duration", "8s", "--soak-interval", "1s"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=pytester.path,
    )
    try:
        deadline = time.monotonic() + 120
        written = None
        while time.monotonic() < deadline:
            written = samples_written(pytester.path / "reports" / "soak")
            if written and written[1] >= 3:
                break
            assert first.poll() is None, (pytester.path / "first.log").read_text()
            time.sleep(0.1)
        assert written and written[1] >= 3, "the soak never wrote three samples"
        children = psutil.Process(first.pid).children(recursive=True)
        assert len(children) >= 4  # Traefik, two backends, the Locust worker
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
        log.close()
    # Nothing the killed run started outlives it.
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, [p.info for p in alive]
    run_id, before = written
    assert not html.with_suffix(".json").exists()  # SIGKILL: no report, only the samples on disk

    resumed = pytester.runpytest_subprocess(
        "test_soak.py", *suite_args(html, "--soak-interval", "1s", "--soak-resume", run_id)
    )
    resumed.assert_outcomes(passed=3)
    assert f"soak {run_id} resuming" in resumed.stdout.str()
    report = json.loads(html.with_suffix(".json").read_text())
    soak = criterion(report, "stability.soak")
    measured = soak["measured"]
    assert measured["run_id"] == run_id and measured["segments"] == 2
    assert len(measured["gaps"]) == 1 and "unobserved before segment 1" in measured["gaps"][0]
    assert measured["covered_time"].startswith(("7.", "8.")) and "of 48 h" in measured["covered_time"]
    assert soak["status"] == "PASSED_BELOW_GATE" and soak["meets_gate"] is False
    detail = report["measurements"]["criteria"]["stability.soak"]
    notes = " ".join(n["text"] for n in detail["notes"])
    assert "segment 0:" in notes and "ended killed" in notes and "segment 1:" in notes
    assert "threshold NOT met: covered time" in notes
    kinds = {(s["group"], s["kind"]) for s in detail["series"]}
    assert ("soak: latency", "events") in kinds and ("soak: error rate", "line") in kinds
    resources = report["measurements"]["criteria"]["stability.resource_headroom"]["series"]
    assert {s["name"] for s in resources} >= {"CPU", "memory", "limit 70 %"}
    page = html.read_text()
    assert page.count("<svg") >= 4 and "<script" not in page and "<link" not in page  # inline, no CDN
    lines = (pytester.path / "reports" / "soak" / run_id / "samples.jsonl").read_text().splitlines()
    assert sum('"type":"sample"' in line for line in lines) >= before + 4


def test_a_lab_over_its_memory_budget_fails_resource_headroom(pytester):
    pytester.makepyfile(test_soak=SUITE.read_text())
    html = pytester.path / "reports" / "gate1.html"
    result = pytester.runpytest_subprocess(
        "test_soak.py",
        *suite_args(html, "--soak-duration", "3s", "--soak-interval", "1s", "--soak-memory-budget", "16Mi"),
    )
    result.assert_outcomes(passed=2, failed=1)
    report = json.loads(html.with_suffix(".json").read_text())
    headroom = criterion(report, "stability.resource_headroom")
    assert headroom["status"] == "FAIL"
    assert headroom["measured"]["memory_peak_percent"] > 70
    # A 3 s soak runs ahead, beside the lab starts; the report says so, since its latency shares the machine.
    notes = [n["text"] for n in report["measurements"]["criteria"]["stability.soak"]["notes"]]
    assert any(n.startswith("the soak ran ahead, in the background") for n in notes), notes


@pytest.mark.parametrize(("option", "value"), [("--soak-resume", "no-such-run"), ("--soak-interval", "soon")])
def test_bad_soak_input_stops_the_run_with_one_line_and_exit_code_4(pytester, option, value):
    pytester.makepyfile(test_soak=SUITE.read_text())
    result = pytester.runpytest_subprocess("test_soak.py", *suite_args(pytester.path / "r" / "g.html", option, value))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    # A bad value stops at configure time (stderr); an unknown run id once the soak looks for it (stdout).
    output = result.stderr.str() + result.stdout.str()
    assert f"dbc_validate: {option}" in output or "no soak run 'no-such-run'" in output
