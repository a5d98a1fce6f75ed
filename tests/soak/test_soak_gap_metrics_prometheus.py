"""A resumed soak's gap read from a real Prometheus: 3 h histories backfilled with promtool, read as the gap
between a run's last sample and its resume."""

from __future__ import annotations

import calendar
import time
from pathlib import Path

import pytest
from prom_history import Scenario, backfilled

from dbc_validate.labs.prometheus_server import running_prometheus
from dbc_validate.probes.soak.prometheus_history import read_gap

HOURS = 3.0
STEP_S = 300


@pytest.fixture(scope="module")
def window_end() -> float:
    now = time.time()
    return now - now % STEP_S


def gap_of(tmp_path: Path, scenario: Scenario, end: float, gap_from_h: float, gap_to_h: float):
    tsdb = backfilled(tmp_path, scenario, end, hours=HOURS)
    start = end - HOURS * 3600
    with running_prometheus(tmp_path / "prometheus.yml", tsdb, extra_flags=["--storage.tsdb.retention.time=30d"]) as p:
        return read_gap(p.url, start + gap_from_h * 3600, start + gap_to_h * 3600), p.url


def test_a_quiet_gap_is_read_whole_with_no_restart_and_its_peaks(tmp_path, window_end):
    gap, url = gap_of(tmp_path, Scenario("healthy"), window_end, 0.5, 2.5)
    assert gap.error == "" and gap.source == url
    assert gap.coverage_percent == 100.0 and gap.steps >= 100  # 2 h at a 1 min step
    assert gap.restarts == 0 and gap.crashloops == () and gap.not_ready == ()
    assert gap.cpu_peak_percent is not None and 0 < gap.cpu_peak_percent < 70
    assert gap.memory_peak_percent is not None and 0 < gap.memory_peak_percent < 70


def test_a_crash_loop_while_nobody_watched_is_found_with_when_it_began(tmp_path, window_end):
    gap, _ = gap_of(tmp_path, Scenario("crashloop", event_hour=1.0), window_end, 0.5, 2.5)
    assert gap.restarts > 3
    (loop,) = gap.crashloops
    (not_ready,) = gap.not_ready
    assert loop.startswith("dbc/web-0/") and not_ready.startswith("dbc/web-0 "), gap
    # The loop began at hour 1 of the history (restarts every 150 s): named by its clock time, give or take a step.
    began = calendar.timegm(time.strptime(loop.split("(from ")[1].rstrip(")"), "%Y-%m-%d %H:%M UTC"))
    assert abs(began - (window_end - (HOURS - 1.0) * 3600)) <= 3 * 60, loop


def test_a_scrape_gap_inside_the_runs_gap_lowers_the_coverage_and_is_not_filled(tmp_path, window_end):
    gap, _ = gap_of(tmp_path, Scenario("gap", event_hour=1.0, gap_hours=1.0), window_end, 0.5, 2.5)
    assert 40 < gap.coverage_percent < 60, gap  # 1 h of 2 h without a scraped sample


def test_a_prometheus_that_does_not_answer_leaves_the_gap_unobserved_and_says_so():
    end = time.time()
    gap = read_gap("http://127.0.0.1:9", end - 3600, end)
    assert gap.steps == 0 and gap.coverage_percent == 0.0 and "did not answer" in gap.error
    short = read_gap("http://127.0.0.1:9", end - 30, end)
    assert short.error == "the gap holds no whole query step of 60 s"
