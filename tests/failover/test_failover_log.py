"""The pure failover-log analysis: parsing, error kinds, write gap, losses, duplicates, percentiles, verdicts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dbc_validate.analysis.failover_log import (
    Attempt,
    LogFormatError,
    Spread,
    TimelineEvent,
    TrialLog,
    analyse_trial,
    classify_error,
    compact_connection_error,
    cumulative_series,
    format_attempt,
    format_present,
    judge_losses,
    judge_write_gaps,
    merge_close_events,
    new_primary_event,
    parse_writer_log,
    summarise,
    timeline_events,
    write_gap,
)
from dbc_validate.capabilities import TopologyEvent

FAULT = 1000.0

# Messages as psycopg, libpq and psql print them.
PSYCOPG_MULTI_HOST = (
    'connection failed: connection to server at "127.0.0.1", port 3 failed: session is read-only\n'
    "Multiple connection attempts failed. All failures were:\n"
    "- host: '127.0.0.1', port: '1', hostaddr: '127.0.0.1': connection failed: connection to server at "
    '"127.0.0.1", port 1 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP '
    "connections?\n"
    "- host: '127.0.0.1', port: '3', hostaddr: '127.0.0.1': connection failed: connection to server at "
    '"127.0.0.1", port 3 failed: session is read-only'
)


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        (compact_connection_error(PSYCOPG_MULTI_HOST), "no_primary"),
        ('psql: error: connection to server at "10.96.0.12", port 5432 failed: Connection refused', "refused"),
        (
            'psql: error: connection to server at "pg-rw" (10.96.0.12), port 5432 failed: timeout expired',
            "connect_timeout",
        ),
        ("OperationalError: consuming input failed: server closed the connection unexpectedly", "connection_lost"),
        ("AdminShutdown SQLSTATE 57P01: terminating connection due to administrator command", "admin_shutdown"),
        ("AdminShutdown SQLSTATE 57P01: terminating connection due to unexpected postmaster exit", "connection_lost"),
        ("QueryCanceled SQLSTATE 57014: canceling statement due to statement timeout", "statement_timeout"),
        ("ERROR:  cannot execute INSERT in a read-only transaction", "no_primary"),
        ("FATAL:  the database system is starting up", "not_ready"),
        ('FATAL:  password authentication failed for user "app"', "auth"),
        ('psql: error: could not translate host name "postgres-cluster-rw" to address', "dns"),
        ("something nobody expected", "other"),
    ],
)
def test_error_kind_is_named_from_driver_and_server_messages(message: str, kind: str) -> None:
    assert classify_error(message) == kind


def test_multi_host_error_keeps_every_hosts_reason_on_one_line() -> None:
    compact = compact_connection_error(PSYCOPG_MULTI_HOST)
    assert compact == "connection failed on every host: port 1: Connection refused; port 3: session is read-only"
    assert compact_connection_error("plain\n message") == "plain message"


def test_log_lines_round_trip_and_reader_lines_add_up() -> None:
    ack = Attempt(7, 1, 1000.123456, 1000.125, True, "127.0.0.1:5432")
    err = Attempt(8, 2, 1000.2, 1000.3, False, "boom\twith tab\nand newline")
    text = "\n".join(
        ["# header", format_attempt(ack), format_attempt(err), format_present(7, 1), format_present(7, 1), "noise"]
    )
    log = parse_writer_log(text)
    assert log.attempts[0] == ack
    assert log.attempts[1].detail == "boom with tab and newline"
    assert log.present == {7: 2}
    assert log.ignored_lines == 2
    assert parse_writer_log(format_attempt(ack)).present is None
    assert parse_writer_log("present-none").present == {}


@pytest.mark.parametrize(
    "line",
    ["attempt\t1\t1\t1.0\t2.0\tmaybe\tx", "attempt\tone\t1\t1.0\t2.0\tack\tx", "attempt\t1\t1", "present\t1"],
)
def test_malformed_tagged_line_is_an_error_naming_the_line(line: str) -> None:
    with pytest.raises(LogFormatError, match="line 2"):
        parse_writer_log("# ok\n" + line)


times = st.floats(min_value=0, max_value=2000, allow_nan=False, allow_infinity=False)


@given(st.lists(times, max_size=40), times)
def test_write_gap_is_never_negative_and_absent_only_without_an_ack_after_the_fault(
    acks: list[float], fault: float
) -> None:
    result = write_gap(acks, fault)
    after = [t for t in acks if t > fault]
    assert (result is None) == (not after)
    if result is not None:
        gap, start, end = result
        assert gap >= 0
        assert end - start == gap
        assert end > fault
        # never shorter than the plain definition: first ack after the fault minus last ack before it
        before = [t for t in acks if t <= fault]
        assert gap >= min(after) - (max(before) if before else fault) - 1e-9


@given(st.lists(times, min_size=1, max_size=20), st.lists(times, min_size=1, max_size=20))
def test_write_gap_equals_first_after_minus_last_before_when_nothing_stalls_later(
    before: list[float], after: list[float]
) -> None:
    # Acks before the fault at [0, 500], a single stretch across the fault, then acks closer together.
    before_acks = [b / 4 for b in before]
    first_after = 1500.0
    after_acks = sorted(first_after + a / 100_000 for a in after)
    result = write_gap([*before_acks, *after_acks], FAULT)
    assert result is not None
    assert result[0] == pytest.approx(min(after_acks) - max(before_acks))


def test_old_primary_acknowledging_after_the_fault_does_not_hide_the_outage() -> None:
    # Grace period: the old primary still acknowledges 0.1 s and 0.2 s after the fault, then 15 s of nothing.
    acks = [990.0, 999.9, 1000.1, 1000.2, 1015.2, 1015.3]
    gap, start, end = write_gap(acks, FAULT) or (0, 0, 0)
    assert (gap, start, end) == pytest.approx((15.0, 1000.2, 1015.2))
    assert write_gap(acks, 2000.0) is None
    assert write_gap([1001.0], FAULT) == (1.0, FAULT, 1001.0)  # nothing acknowledged before: from the fault


def attempt(seq: int, at: float, acked: bool, retry: int = 1, detail: str = "") -> Attempt:
    return Attempt(seq, retry, at - 0.01, at, acked, detail or ("127.0.0.1:1" if acked else "Connection refused"))


def trial(attempts: list[Attempt], present: dict[int, int], topology: tuple[TopologyEvent, ...] = ()) -> TrialLog:
    return TrialLog(1, "kill", "pg1", FAULT, tuple(attempts), topology, present, FAULT + 60)


@st.composite
def trial_logs(draw: st.DrawFn) -> TrialLog:
    attempts = []
    clock = FAULT - 5
    for seq in range(1, draw(st.integers(0, 30)) + 1):
        for retry in range(1, draw(st.integers(1, 3)) + 1):
            clock += draw(st.floats(0.001, 3))
            attempts.append(Attempt(seq, retry, clock - 0.001, clock, draw(st.booleans()), "x"))
    seqs = sorted({a.seq for a in attempts} | set(draw(st.lists(st.integers(1, 40), max_size=5))))
    present = {s: n for s in seqs if (n := draw(st.integers(0, 3)))}
    return trial(attempts, present)


@given(trial_logs())
def test_lost_is_acknowledged_minus_present_and_duplicates_are_repeated_rows(log: TrialLog) -> None:
    figures = analyse_trial(log)
    acked = {a.seq for a in log.attempts if a.acked}
    present = {s for s, n in log.present.items() if n > 0}
    assert set(figures.lost) == acked - present
    assert set(figures.duplicates) == {s for s, n in log.present.items() if n > 1}
    assert figures.acknowledged == len(acked)
    assert figures.errors == sum(1 for a in log.attempts if not a.acked)
    assert sum(figures.error_kinds.values()) == figures.errors
    assert figures.unacknowledged_present == len(present & ({a.seq for a in log.attempts} - acked))
    assert figures.write_gap_s is None or figures.write_gap_s >= 0


def test_trial_figures_name_the_new_primary_and_the_time_it_took() -> None:
    attempts = [attempt(1, 998.0, True), attempt(2, 999.5, True), attempt(3, 1000.5, False), attempt(3, 1019.0, True)]
    topology = (
        TopologyEvent(990.0, "pg1", "leader pg1"),
        TopologyEvent(1019.5, None, "no leader"),
        TopologyEvent(1020.0, "pg2", "leader pg2"),
    )
    figures = analyse_trial(trial(attempts, {1: 1, 2: 1, 3: 2}, topology))
    assert figures.new_primary == "pg2"
    assert figures.fault_to_new_primary_s == pytest.approx(20.0)
    assert figures.write_gap_s == pytest.approx(19.5)
    assert figures.duplicates == (3,)
    assert figures.lost == ()
    assert figures.first_error_after_fault_s == pytest.approx(0.5)
    assert figures.resumed_after_fault_s == pytest.approx(19.0)
    assert figures.error_kinds == {"refused": 1}
    # an acknowledged write missing on the new primary is lost
    assert analyse_trial(trial(attempts, {1: 1, 3: 1}, topology)).lost == (2,)


def test_new_primary_is_the_first_other_member_seen_after_the_fault() -> None:
    topology = [TopologyEvent(990.0, "pg2", "a"), TopologyEvent(1001.0, "pg1", "b"), TopologyEvent(1002.0, "pg3", "c")]
    event = new_primary_event(topology, "pg1", FAULT)
    assert event is not None and event.primary == "pg3"
    assert new_primary_event(topology[:2], "pg1", FAULT) is None


def test_a_spread_of_no_values_is_empty_and_of_values_uses_the_shared_percentile() -> None:
    assert Spread.of([]) == Spread(None, None, None)
    assert Spread.of([1.0, 2.0, 3.0, 4.0]) == Spread(2.5, pytest.approx(3.85), 4.0)


def figures_with_gaps(*gaps: float | None, lost: tuple[int, ...] = ()) -> list:
    result = []
    for index, gap in enumerate(gaps, 1):
        attempts = [attempt(1, 999.0, True)]
        if gap is not None:
            attempts.append(attempt(2, 999.0 + gap, True))
        log = TrialLog(index, "kill", "pg1", FAULT, tuple(attempts), (), {1: 1, 2: 1}, FAULT + 60)
        figures = analyse_trial(log)
        result.append(figures if not lost else type(figures)(**{**figures.__dict__, "lost": lost}))
    return result


def test_summary_reports_p50_p95_max_over_recovered_trials() -> None:
    summary = summarise(figures_with_gaps(10.0, 20.0, 30.0, None))
    assert (summary.trials, summary.recovered, summary.all_recovered) == (4, 3, False)
    assert summary.write_gap.p50 == pytest.approx(20.0)
    assert summary.write_gap.p95 == pytest.approx(29.0)
    assert summary.write_gap.max == pytest.approx(30.0)


def test_gap_verdict_passes_under_the_threshold_and_catches_slow_or_missing_recovery() -> None:
    assert judge_write_gaps(figures_with_gaps(12.0, 19.0), 30.0).ok
    slow = judge_write_gaps(figures_with_gaps(12.0, 31.0), 30.0)
    assert not slow.ok and "trial 2: write gap 31.0 s >= 30 s" in slow.detail
    never = judge_write_gaps(figures_with_gaps(12.0, None), 30.0)
    assert not never.ok and "did not resume" in never.detail
    assert not judge_write_gaps([], 30.0).ok


def test_lost_writes_fail_only_when_durability_is_required() -> None:
    lossy = figures_with_gaps(5.0, lost=(2,))
    required = judge_losses(lossy, True, "synchronous, required")
    assert not required.ok and "trial 1 seq 2" in required.detail
    relaxed = judge_losses(lossy, False, "asynchronous")
    assert relaxed.ok and relaxed.detail.startswith("warning: 1 acknowledged write(s) lost")
    assert judge_losses(figures_with_gaps(5.0), True, "synchronous").ok


def test_timeline_has_fault_topology_changes_first_error_and_resumption() -> None:
    attempts = [attempt(1, 999.0, True), attempt(2, 1000.2, False), attempt(2, 1021.0, True)]
    topology = (
        TopologyEvent(990.0, "pg1", "leader pg1", "a"),
        TopologyEvent(1002.0, "pg1", "leader pg1", "b"),  # a detail changed, the label did not
        TopologyEvent(1020.0, None, "no leader", "c"),
        TopologyEvent(1020.5, "pg2", "leader pg2", "d"),
    )
    log = trial(attempts, {1: 1, 2: 1}, topology)
    events = timeline_events(log, analyse_trial(log))
    assert [(e.label, round(e.at_s, 1)) for e in events] == [
        ("fault", 0.0),
        ("1st error", 0.2),
        ("no leader", 20.0),
        ("leader pg2", 20.5),
        ("resumed", 21.0),
    ]
    merged = merge_close_events(events, 1.5)
    assert [e.label for e in merged] == ["fault, 1st error", "no leader, leader pg2, resumed"]
    assert merge_close_events([TimelineEvent(0, "a")], 1.0) == [TimelineEvent(0, "a")]


def test_cumulative_series_counts_acknowledged_writes_relative_to_the_fault() -> None:
    attempts = [attempt(1, 999.0, True), attempt(2, 1000.5, False), attempt(2, 1003.0, True)]
    assert cumulative_series(attempts, FAULT, acked=True) == ([-1.0, 3.0], [1.0, 2.0])
    assert cumulative_series(attempts, FAULT, acked=False) == ([0.5], [1.0])
