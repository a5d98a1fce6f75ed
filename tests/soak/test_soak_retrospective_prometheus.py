"""Retrospective soak on a real Prometheus: 48 h histories backfilled with promtool, judged by the soak suite.

A healthy history passes; a crash-loop from hour 30 fails stability.no_crashloops naming hour 30; a 6-hour scrape
gap from hour 20 fails stability.soak naming hours 20 to 26. Each history is a TSDB of its own.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers import ROOT, criterion, run_suite
from prom_history import Scenario, backfilled

from dbc_validate.labs.prometheus_server import running_prometheus

SUITE = ROOT / "suites" / "gate1" / "test_soak.py"
STEP_S = 300


@pytest.fixture(scope="module")
def window_end() -> float:
    now = time.time()
    return now - now % STEP_S  # on a step boundary: the hours the suite names are those the history was built with


def judge(pytester: pytest.Pytester, tmp_path: Path, scenario: Scenario, end: float) -> dict[str, dict]:
    tsdb = backfilled(tmp_path, scenario, end)
    # Retention counts from the newest sample; 30 d keeps the whole backfilled window whatever the clock says.
    flags = ["--storage.tsdb.retention.time=30d"]
    with running_prometheus(tmp_path / "prometheus.yml", tsdb, extra_flags=flags) as prometheus:
        _, report = run_suite(
            pytester,
            SUITE,
            "--target",
            "local",
            "--manifests",
            str(ROOT / "fixtures" / "split" / "70-30"),
            "--soak-mode",
            "retrospective",
            "--soak-prometheus",
            prometheus.url,
            "--soak-window-end",
            str(int(end)),
            subprocess=True,
        )
    ids = ("stability.soak", "stability.no_crashloops", "stability.resource_headroom")
    return {i: criterion(report, i) for i in ids}


def test_a_healthy_48h_history_passes_all_three(pytester, tmp_path, window_end):
    result = judge(pytester, tmp_path, Scenario("healthy"), window_end)
    soak = result["stability.soak"]
    assert [r["status"] for r in result.values()] == ["PASSED_BELOW_GATE"] * 3, {
        k: r["reason"] for k, r in result.items()
    }
    assert soak["measured"]["covered_h"] == 48.0 and soak["measured"]["window_coverage_percent"] == 100.0
    assert soak["measured"]["gaps"] == []
    assert 0 < soak["measured"]["error_rate_percent"] < 1
    headroom = result["stability.resource_headroom"]["measured"]
    assert headroom["cpu_peak_percent"] == 30.0 and headroom["memory_peak_percent"] == 40.0


def test_a_crash_loop_at_hour_30_fails_no_crashloops_naming_the_hour(pytester, tmp_path, window_end):
    result = judge(pytester, tmp_path, Scenario("crashloop", event_hour=30), window_end)
    crash = result["stability.no_crashloops"]
    assert crash["status"] == "FAIL"
    assert "dbc/web-0/web (from hour 30.0)" in crash["reason"], crash["reason"]
    assert "first restart dbc/web-0/web at hour 30.0" in crash["reason"]
    assert result["stability.soak"]["status"] == "PASSED_BELOW_GATE"  # the ingress kept answering


def test_a_6h_scrape_gap_fails_the_soak_naming_the_hours_and_is_not_filled(pytester, tmp_path, window_end):
    result = judge(pytester, tmp_path, Scenario("gap", event_hour=20, gap_hours=6), window_end)
    soak = result["stability.soak"]
    assert soak["status"] == "FAIL"
    # Whole 5-minute steps without a sample: from hour 20.0 to the step before data returns at hour 26.
    assert "no data from hour 20.0 to hour 25.9" in soak["reason"], soak["reason"]
    assert soak["measured"]["covered_h"] == pytest.approx(42.1, abs=0.05)
    assert soak["measured"]["window_coverage_percent"] < 88
    assert result["stability.no_crashloops"]["status"] == "PASSED_BELOW_GATE"
