"""Soak decisions from samples: stitching segments, gaps, covered time, peaks, crash-loops, chart columns (pure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dbc_validate.analysis.soak_summary import (
    GapMetrics,
    LoadWindow,
    RestartsMeanwhile,
    build_sample,
    chart_lines,
    crashlooping,
    restart_delay,
    restarts_meanwhile,
    summarize,
    time_axis,
)
from dbc_validate.capabilities import ComponentHealth
from dbc_validate.stats import downsample

T0 = 1_790_000_000.0


def segment(index: int, t: float, planned: float = 60.0) -> dict:
    return {"type": "segment", "segment": index, "t": t, "planned_s": planned, "interval_s": 10.0, "subject": "lab"}


def sample(index: int, t: float, dt: float = 10.0, **fields) -> dict:
    record = {
        "type": "sample",
        "segment": index,
        "t": t,
        "dt": dt,
        "requests": 50,
        "failures": 0,
        "error_rate": 0.0,
        "p50_ms": 4.0,
        "p95_ms": 12.0,
        "cpu_percent": 5.0,
        "memory_percent": 30.0,
        "restarts": 0,
        "crashloops": [],
        "down": [],
    }
    return record | fields


def killed_and_resumed() -> list[dict]:
    """Segment 0: three samples then SIGKILL (no end record); 100 s later segment 1 finishes the run."""
    return [
        segment(0, T0),
        sample(0, T0 + 10),
        sample(0, T0 + 20, failures=1, error_rate=0.02, p95_ms=40.0),
        sample(0, T0 + 30, cpu_percent=12.0),
        segment(1, T0 + 130),
        sample(1, T0 + 140, memory_percent=35.0, restarts=1, down=["backend b"]),
        sample(1, T0 + 150, restarts=1),
        sample(1, T0 + 160, restarts=1),
        {"type": "end", "segment": 1, "t": T0 + 160.5, "reason": "completed"},
    ]


def test_a_killed_and_resumed_run_is_stitched_with_its_gap():
    summary, series = summarize("run", killed_and_resumed())
    assert [s.ended for s in summary.segments] == ["killed", "completed"]
    assert [s.samples for s in summary.segments] == [3, 3]
    assert summary.covered_s == 60.0 and summary.remaining_s == 0.0
    (gap,) = summary.gaps
    assert (gap.at_s, gap.length_s, gap.before_segment) == (30.0, 100.0, 1)
    assert gap.describe() == "1m40s unobserved before segment 1"
    assert (summary.requests, summary.failures) == (300, 1)
    assert summary.error_rate == 1 / 300 and summary.error_rate_max == 0.02
    assert (summary.p95_ms_max, summary.cpu_peak_percent, summary.memory_peak_percent) == (40.0, 12.0, 35.0)
    assert summary.restarts == 1 and summary.down == ["backend b"]
    # The line breaks at the gap: a None row between the segments.
    assert series.x == [10.0, 20.0, 30.0, 30.0, 140.0, 150.0, 160.0]
    assert series.p95_ms[3] is None
    assert series.error_percent[1] == 2.0


def test_a_gap_the_in_cluster_load_ran_through_names_the_masters_count_and_stays_uncovered():
    records = killed_and_resumed()
    records[4] = {**records[4], "unwatched_load": {"event": "reattached", "requests": 1900, "failures": 3}}
    summary, _ = summarize("run", records)
    (gap,) = summary.gaps
    assert (gap.unwatched_requests, gap.unwatched_failures) == (1900, 3)
    assert gap.describe() == (
        "1m40s unobserved before segment 1 (the in-cluster load ran on meanwhile: 1900 requests, 3 failed, "
        "counted by the Locust master; not sampled, so not covered)"
    )
    # The master's count is reported, not folded into the sampled figures or the covered time.
    assert (summary.requests, summary.failures, summary.covered_s) == (300, 1, 60.0)


def test_restarts_add_up_across_segments_and_crashloops_are_named():
    records = [
        segment(0, T0),
        sample(0, T0 + 10, restarts=2, crashloops=["traefik"]),
        segment(1, T0 + 20),
        sample(1, T0 + 30, restarts=1),
    ]
    summary, _ = summarize("run", records)
    assert summary.restarts == 3
    assert summary.crashloops == ["traefik"]


def test_torn_or_foreign_records_do_not_break_the_summary():
    summary, series = summarize("run", [sample(0, T0), {"type": "unknown"}, segment(0, T0), sample(0, T0 + 10)])
    assert summary.samples == 1 and len(series.x) == 1


def test_covered_time_is_shown_against_the_gate():
    summary, _ = summarize("run", [segment(0, T0), sample(0, T0 + 60, dt=60.0)])
    assert summary.covered_against(48 * 3600) == "1m00s of 48 h (0.03 %)"


def test_crashloop_means_repeated_restarts_within_the_window():
    assert not crashlooping([], 100.0)
    assert not crashlooping([10.0, 20.0], 30.0)
    assert crashlooping([10.0, 20.0, 30.0], 30.0)
    assert not crashlooping([10.0, 20.0, 30.0], 30.0 + 601)  # long ago: recovered


def test_restart_back_off_grows_to_a_cap():
    assert [restart_delay(n) for n in range(7)] == [0.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0]
    assert restart_delay(2, base_s=0.5) == 1.0


def test_build_sample_counts_restarts_from_the_baseline_and_judges_against_the_limit():
    load = LoadWindow()
    load.add({"requests": 4, "failures": 1, "latencies_ms": [1.0, 2.0, 3.0, 100.0], "first_error": "HTTP 502"})
    components = [
        ComponentHealth("traefik", True, 5, False),
        ComponentHealth("backend", False, 2, True),
    ]
    record = build_sample(
        segment=1,
        t=T0,
        dt=10.0,
        load=load,
        components=components,
        baseline_restarts={"traefik": 5},
        cpu_cores=0.35,
        memory_mb=256.0,
        cpu_limit_cores=0.5,
        memory_limit_mb=512.0,
    )
    assert record["restarts"] == 2 and record["crashloops"] == ["backend"] and record["down"] == ["backend"]
    assert record["error_rate"] == 0.25 and record["first_error"] == "HTTP 502"
    assert record["cpu_percent"] == 70.0 and record["memory_percent"] == 50.0
    assert record["p50_ms"] == 2.5


def test_a_sample_without_requests_has_no_error_rate_or_latency():
    record = build_sample(
        segment=0,
        t=T0,
        dt=10.0,
        load=LoadWindow(),
        components=[],
        baseline_restarts={},
        cpu_cores=None,
        memory_mb=None,
        cpu_limit_cores=1.0,
        memory_limit_mb=512.0,
    )
    assert record["error_rate"] is None and record["p95_ms"] is None and record["cpu_percent"] is None


def test_chart_lines_mark_the_resume_and_keep_the_gap():
    summary, series = summarize("run", killed_and_resumed())
    lines = chart_lines(summary, series, 70.0)
    topics = {line.topic for line in lines}
    assert topics == {"soak", "crashloops", "resources"}
    marks = [line for line in lines if line.kind == "events"]
    assert marks and all(line.labels == ("resumed after 1m40s",) for line in marks)
    assert marks[0].x == [130.0]
    p95 = next(line for line in lines if line.name == "latency p95")
    assert None in p95.y
    limit = next(line for line in lines if line.name.startswith("limit"))
    assert set(v for v in limit.y if v is not None) == {70.0}


def test_time_axis_picks_a_readable_unit():
    assert time_axis(60) == (1.0, "seconds since the soak started")
    assert time_axis(3600) == (60.0, "minutes since the soak started")
    assert time_axis(48 * 3600) == (3600.0, "hours since the soak started")


@given(st.lists(st.one_of(st.none(), st.floats(0, 100)), min_size=1, max_size=3000), st.integers(20, 400))
def test_downsampling_keeps_every_gap_and_the_extremes(values, limit):
    x = [float(i) for i in range(len(values))]
    xs, ys = downsample(x, values, limit)
    assert xs == sorted(xs)
    present = [v for v in values if v is not None]
    if present:
        assert max(v for v in ys if v is not None) == max(present)
        assert min(v for v in ys if v is not None) == min(present)
    if len(values) > limit:
        assert len(xs) <= limit + 2 * values.count(None) + 2
    # A gap (a None between values) is still a gap after downsampling.
    has_gap = any(
        values[i] is None and any(v is not None for v in values[:i]) and any(v is not None for v in values[i:])
        for i in range(len(values))
    )
    if has_gap:
        kept = [i for i, v in enumerate(ys) if v is None]
        assert any(0 < i < len(ys) - 1 for i in kept)


def test_restarts_meanwhile_come_from_the_counters_and_name_replaced_components():
    meanwhile = restarts_meanwhile({"web-0": 1, "web-1": 4, "db-0": 2}, {"web-0": 3, "web-1": 4, "db-0": 0, "w-9": 0})
    assert meanwhile.restarted == {"web-0": 2} and meanwhile.restarts == 2
    # db-0's counter went back (a new pod of the same name) and w-9 is new: both replaced, restarts unknown.
    assert meanwhile.new_components == ("db-0", "w-9")
    assert RestartsMeanwhile.from_record(meanwhile.as_record()) == meanwhile
    assert restarts_meanwhile({"web-0": 1}, {"web-0": 1}).describe() == ""


def test_a_gap_says_what_the_counters_saw_meanwhile():
    records = [
        {"type": "segment", "segment": 0, "t": 0.0, "planned_s": 20, "interval_s": 1},
        {"type": "sample", "segment": 0, "t": 1.0, "dt": 1.0, "restarts": 0, "restart_counts": {"web-0": 0}},
        {
            "type": "segment",
            "segment": 1,
            "t": 61.0,
            "restarts_meanwhile": {"restarted": {"web-0": 2}, "new_components": []},
        },
        {"type": "sample", "segment": 1, "t": 62.0, "dt": 1.0, "restarts": 2},
    ]
    summary, _ = summarize("r", records)
    assert summary.restarts == 2
    assert summary.gaps[0].describe() == (
        "1m00s unobserved before segment 1; meanwhile: 2 restart(s) (web-0 +2), from the components' own restart "
        "counters"
    )


def test_the_clusters_metrics_over_a_gap_count_against_the_run_but_not_as_covered_time():
    metrics = GapMetrics(
        "http://prometheus:9090",
        coverage_percent=100.0,
        steps=30,
        step_s=60.0,
        cpu_peak_percent=91.0,
        memory_peak_percent=40.0,
        crashloops=("default/web-0/app (from 2026-12-03 10:12 UTC)",),
        not_ready=("default/web-0 (from 2026-12-03 10:13 UTC)",),
        restarts=5,
    )
    assert GapMetrics.from_record(metrics.as_record()) == metrics
    records = [
        {"type": "segment", "segment": 0, "t": 0.0, "planned_s": 60, "interval_s": 1},
        {"type": "sample", "segment": 0, "t": 1.0, "dt": 1.0, "cpu_percent": 10.0, "memory_percent": 50.0},
        {"type": "segment", "segment": 1, "t": 1801.0, "gap_metrics": metrics.as_record()},
        {"type": "sample", "segment": 1, "t": 1802.0, "dt": 1.0, "cpu_percent": 12.0, "memory_percent": 45.0},
    ]
    summary, _ = summarize("r", records)
    assert summary.covered_s == 2.0  # the harness sampled 2 s; the metrics judge the gap, they do not cover it
    assert (summary.cpu_peak_percent, summary.memory_peak_percent) == (91.0, 50.0)
    assert summary.crashloops == ["default/web-0/app (from 2026-12-03 10:12 UTC)"]
    assert summary.down == ["default/web-0 (from 2026-12-03 10:13 UTC)"]
    text = summary.gaps[0].describe()
    assert "the cluster's metrics (http://prometheus:9090) cover 100 % of its 30 step(s) of 1m00s" in text
    assert "5 restart(s); CPU peak 91.0 %, memory peak 40.0 %; crash-looping: default/web-0/app" in text


def test_a_gap_the_metrics_could_not_cover_says_why_and_counts_nothing():
    failed = GapMetrics("http://127.0.0.1:9", 0.0, 0, 60.0, error="Prometheus did not answer")
    records = [
        {"type": "segment", "segment": 0, "t": 0.0, "planned_s": 60, "interval_s": 1},
        {"type": "sample", "segment": 0, "t": 1.0, "dt": 1.0, "cpu_percent": 10.0},
        {"type": "segment", "segment": 1, "t": 301.0, "gap_metrics": failed.as_record()},
    ]
    summary, _ = summarize("r", records)
    assert summary.cpu_peak_percent == 10.0 and summary.crashloops == []
    assert summary.gaps[0].describe().endswith("; not read from http://127.0.0.1:9: Prometheus did not answer")
