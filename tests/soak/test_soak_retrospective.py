"""Retrospective soak (pure): range-query results become soak records; gaps, restarts and crash-loops get their hour."""

from __future__ import annotations

import pytest

from dbc_validate.analysis.retrospective_soak import QUERIES, History, history_records, query_step, step_times
from dbc_validate.analysis.soak_summary import summarize

STEP = 300.0
START = 1_000_000.0 - 1_000_000.0 % STEP
HOURS = 4
END = START + HOURS * 3600
POD = (("container", "web"), ("namespace", "dbc"), ("pod", "web-0"))


def history(missing_h: tuple[float, float] | None = None, restarts: dict[float, float] | None = None) -> History:
    times = step_times(START, END, STEP)

    def present(t: float) -> bool:
        hour = (t - START) / 3600
        return missing_h is None or not (missing_h[0] < hour <= missing_h[1])

    counter = {}
    value = 0.0
    for t in times:
        value = (restarts or {}).get((t - START) / 3600, value)
        if present(t):
            counter[t] = value
    kept = [t for t in times if present(t)]
    return History(
        START,
        END,
        STEP,
        {
            "coverage": {(): {t: 20.0 for t in kept}},
            "restarts": {POD: counter},
            "requests": {(): {t: 3000.0 for t in kept}},
            "errors": {(): {t: 3.0 for t in kept}},
            "container_cpu": {(): {t: 20.0 for t in kept}},
            "node_cpu": {(): {t: 35.0 for t in kept}},
            "container_memory": {(): {t: 50.0 for t in kept}},
            "p95": {(): {t: 120.0 for t in kept}},
        },
    )


def test_a_complete_quiet_window_is_all_covered_with_its_figures():
    records, findings = history_records(history(), "subject", HOURS * 3600)
    summary, series = summarize("run", records)
    assert findings.coverage_percent == 100 and not findings.gaps_h and not findings.first_restart_h
    assert summary.covered_s == HOURS * 3600 and not summary.gaps and summary.restarts == 0
    assert summary.requests == 3000 * HOURS * 12 and summary.error_rate == pytest.approx(0.001)
    assert summary.cpu_peak_percent == 35.0 and summary.memory_peak_percent == 50.0  # node CPU above container
    assert len(series.x) == HOURS * 12


def test_a_gap_is_shown_with_its_hours_and_never_filled():
    records, findings = history_records(history(missing_h=(1.0, 2.5)), "subject", HOURS * 3600)
    summary, series = summarize("run", records)
    assert findings.gaps_h == [(1.0, 2.5)] and findings.hiding_gaps_h == [(1.0, 2.5)]
    assert summary.covered_s == (HOURS - 1.5) * 3600
    assert [round(g.length_s) for g in summary.gaps] == [1.5 * 3600]
    assert None in series.p95_ms  # the chart's line breaks at the gap
    assert "hour 1.0 to hour 2.5 (1.5 h)" in findings.describe_gaps()


def test_a_gap_shorter_than_a_crash_loop_is_shown_but_cannot_hide_one():
    _, findings = history_records(history(missing_h=(1.0, 1.09)), "subject", HOURS * 3600)
    assert findings.gaps_h == [(1.0, round(1.0 + STEP / 3600, 2))] and not findings.hiding_gaps_h


def test_a_window_that_opens_on_a_gap_keeps_its_hours():
    records, findings = history_records(history(missing_h=(-1.0, 1.0)), "subject", HOURS * 3600)
    summary, _ = summarize("run", records)
    assert findings.gaps_h == [(0.0, 1.0)]
    assert summary.started == START and summary.covered_s == (HOURS - 1) * 3600


def test_restarts_three_within_ten_minutes_are_a_crash_loop_from_that_hour():
    # One restart at hour 1, then three more in the two steps ending at hour 3.0 and 3.08 (37 steps of 5 min).
    hist = history(restarts={1.0: 1.0, 3.0: 3.0, 37 / 12: 4.0})
    records, findings = history_records(hist, "subject", HOURS * 3600)
    summary, _ = summarize("run", records)
    assert summary.restarts == 4
    assert findings.first_restart_h == {"dbc/web-0/web": 1.0}
    # The loop begins with the first restart of the three within ten minutes (the step ending at hour 3.0).
    assert findings.crashloop_from_h == {"dbc/web-0/web": 3.0}
    assert summary.crashloops == ["dbc/web-0/web (from hour 3.0)"]


def test_a_counter_that_drops_is_a_new_container_whose_value_counts():
    hist = history(restarts={1.0: 2.0, 2.0: 1.0})
    _, findings = history_records(hist, "subject", HOURS * 3600)
    records, _ = history_records(hist, "subject", HOURS * 3600)
    assert summarize("run", records)[0].restarts == 3 and findings.first_restart_h == {"dbc/web-0/web": 1.0}


@pytest.mark.parametrize(
    ("window_h", "interval_s", "step"), [(48, 10, 300), (1, 10, 60), (48, 600, 600), (24 * 30, 10, 3600)]
)
def test_the_query_step_keeps_a_window_under_a_thousand_points(window_h, interval_s, step):
    assert query_step(window_h * 3600, interval_s) == step


def test_every_query_has_its_braces_right():
    for name, template in QUERIES.items():
        text = template.format(step=300)
        assert text.count("(") == text.count(")") and text.count("{") == text.count("}"), name
        assert "{step}" not in text
