"""Failover trial logs and what they prove: write gap, time to a new primary, lost and duplicated writes (pure).

A writer logs one line per attempt (local writer and in-cluster writer pod alike), a reader adds which
sequence numbers the new primary holds, the orchestrator adds the fault time and topology changes. All
times are wall-clock seconds (time.time()) of the machine that ran the writer and the orchestrator.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from dbc_validate.capabilities import TopologyEvent
from dbc_validate.stats import percentile

LOG_HEADER = "# dbc_validate failover writer log v1"

# Substrings (lower case) of driver and server messages, checked in order: the first match names the kind.
# Multi-host connection errors list every host's failure, so "no primary" (some member answered, none
# accepted writes) is checked before "refused".
ERROR_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # A backend outliving its killed postmaster for a moment says 57P01 too, but its server is gone.
    ("connection_lost", ("unexpected postmaster exit", "crash of another server process")),
    ("auth", ("password authentication failed", "28p01", "no pg_hba.conf entry")),
    ("dns", ("could not translate host name", "name or service not known", "temporary failure in name resolution")),
    ("statement_timeout", ("statement timeout", "57014")),
    ("admin_shutdown", ("terminating connection due to administrator command", "57p01")),
    (
        "no_primary",
        ("read-only", "hot standby", "25006", "not in read-write mode", "session is read-only"),
    ),
    (
        "not_ready",
        ("the database system is starting up", "the database system is shutting down", "57p03", "in recovery mode"),
    ),
    ("connect_timeout", ("timeout expired", "timed out", "connection timeout")),
    ("refused", ("connection refused",)),
    (
        "connection_lost",
        (
            "server closed the connection",
            "connection is lost",
            "connection is closed",
            "consuming input failed",
            "eof detected",
            "ssl syscall",
            "broken pipe",
            "connection reset",
            "08006",
            "08003",
            "no route to host",
        ),
    ),
)

# The table the failover writers append to (local writer thread and cluster writer pod alike).
TABLE = "dbc_failover_probe"
CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (run_id text NOT NULL, seq bigint NOT NULL, attempt int NOT NULL, "
    "sent_at double precision NOT NULL, written_at timestamptz NOT NULL DEFAULT clock_timestamp())"
)


def classify_error(detail: str) -> str:
    """The kind of a failed attempt from its message (driver, libpq or psql text, SQLSTATE if present)."""
    text = detail.lower()
    for kind, needles in ERROR_KINDS:
        if any(needle in text for needle in needles):
            return kind
    return "other"


def compact_connection_error(text: str) -> str:
    """One line per failed host of a multi-host connection error (psycopg lists "All failures were: - host: ...")
    so each host's reason survives the log's line limit."""
    flat = " ".join(text.split())
    _, marker, rest = flat.partition("All failures were:")
    if not marker:
        return flat
    reasons = []
    for part in (p.strip() for p in rest.split("- host:") if p.strip()):
        port = re.search(r"port: '?(\d+)'?", part)
        reason = part.rsplit("failed:", 1)[-1].split("Is the server running")[0].strip()
        reasons.append(f"port {port.group(1) if port else '?'}: {reason}")
    return "connection failed on every host: " + "; ".join(reasons)


class LogFormatError(ValueError):
    """A writer log line that carries a known tag but cannot be read."""


@dataclass(frozen=True)
class Attempt:
    """One write attempt: sequence number, retry number, send and completion times, outcome."""

    seq: int
    attempt: int
    sent: float
    done: float
    acked: bool
    detail: str = ""  # acked: the server that answered; failed: the error message

    @property
    def kind(self) -> str:
        return "ack" if self.acked else classify_error(self.detail)


def _clean(text: str, limit: int = 500) -> str:
    return " ".join(text.replace("\t", " ").split())[:limit]


def format_attempt(a: Attempt) -> str:
    status = "ack" if a.acked else "error"
    return f"attempt\t{a.seq}\t{a.attempt}\t{a.sent:.6f}\t{a.done:.6f}\t{status}\t{_clean(a.detail)}"


def format_present(seq: int, count: int) -> str:
    return f"present\t{seq}\t{count}"


@dataclass(frozen=True)
class WriterLog:
    attempts: tuple[Attempt, ...]
    present: Mapping[int, int] | None  # seq -> rows found by the reader; None when the log has no reader part
    ignored_lines: int = 0  # untagged lines (comments, tool warnings)


def parse_writer_log(text: str) -> WriterLog:
    """Attempts and reader results of a writer log; raises LogFormatError naming the bad line."""
    attempts: list[Attempt] = []
    present: dict[int, int] | None = None
    ignored = 0
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.rstrip("\r\n").split("\t")
        tag = fields[0]
        try:
            if tag == "attempt":
                if len(fields) < 7 or fields[5] not in ("ack", "error"):
                    raise ValueError("expected 7 tab-separated fields with status ack or error")
                attempts.append(
                    Attempt(
                        seq=int(fields[1]),
                        attempt=int(fields[2]),
                        sent=float(fields[3]),
                        done=float(fields[4]),
                        acked=fields[5] == "ack",
                        detail="\t".join(fields[6:]),
                    )
                )
            elif tag == "present":
                if len(fields) != 3:
                    raise ValueError("expected: present, seq, count")
                present = present if present is not None else {}
                present[int(fields[1])] = present.get(int(fields[1]), 0) + int(fields[2])
            elif tag == "present-none":
                present = present if present is not None else {}
            else:
                ignored += 1
        except ValueError as exc:
            raise LogFormatError(f"writer log line {number}: {exc}: {line[:120]!r}") from None
    return WriterLog(tuple(attempts), present, ignored)


@dataclass(frozen=True)
class TrialLog:
    """Everything recorded about one trial."""

    index: int
    fault: str  # "kill" | "switchover" | "delete pod"
    old_primary: str
    fault_at: float
    attempts: tuple[Attempt, ...]
    topology: tuple[TopologyEvent, ...]
    present: Mapping[int, int]
    window_end: float  # when observation stopped


@dataclass(frozen=True)
class TrialFigures:
    index: int
    fault: str
    old_primary: str
    new_primary: str | None
    write_gap_s: float | None  # None: no write was acknowledged after the fault within the window
    gap_from: float | None  # absolute times of the acknowledged writes bounding the gap
    gap_to: float | None
    fault_to_new_primary_s: float | None
    acknowledged: int  # distinct sequence numbers acknowledged
    lost: tuple[int, ...]  # acknowledged but absent on the new primary
    duplicates: tuple[int, ...]  # present more than once
    unacknowledged_present: int  # written although the writer saw an error (commit outcome unknown to it)
    attempts: int
    errors: int
    error_kinds: Mapping[str, int] = field(default_factory=dict)
    first_error_after_fault_s: float | None = None
    resumed_after_fault_s: float | None = None  # end of the write gap, relative to the fault

    @property
    def recovered(self) -> bool:
        return self.write_gap_s is not None


def _ack_times(attempts: Iterable[Attempt]) -> list[float]:
    return sorted(a.done for a in attempts if a.acked)


def write_gap(ack_times: Sequence[float], fault_at: float) -> tuple[float, float, float] | None:
    """(gap, from, to): the longest stretch without an acknowledged write, from the last one at or before the
    fault onward.

    With an instant kill this is the first acknowledged write after the fault minus the last one before it.
    Taking the longest stretch from there on also catches an old primary that still acknowledged a few
    writes after the fault (a pod's grace period) and stalls after the new primary took over. Without any
    acknowledged write before the fault the stretch starts at the fault. None when nothing was acknowledged
    after the fault.
    """
    times = sorted(ack_times)
    before = [t for t in times if t <= fault_at]
    after = [t for t in times if t > fault_at]
    if not after:
        return None
    chain = [before[-1] if before else fault_at, *after]
    best = max(range(len(chain) - 1), key=lambda i: chain[i + 1] - chain[i])
    return chain[best + 1] - chain[best], chain[best], chain[best + 1]


def new_primary_event(topology: Sequence[TopologyEvent], old_primary: str, fault_at: float) -> TopologyEvent | None:
    """The first observation after the fault naming a primary other than the old one."""
    return next(
        (e for e in sorted(topology, key=lambda e: e.at) if e.at >= fault_at and e.primary not in (None, old_primary)),
        None,
    )


def analyse_trial(log: TrialLog) -> TrialFigures:
    """The figures of one trial from its log."""
    attempts = log.attempts
    gap = write_gap(_ack_times(attempts), log.fault_at)
    acked = {a.seq for a in attempts if a.acked}
    failed_seqs = {a.seq for a in attempts if not a.acked} - acked
    lost = tuple(sorted(s for s in acked if log.present.get(s, 0) == 0))
    duplicates = tuple(sorted(s for s, n in log.present.items() if n > 1))
    ambiguous = sum(1 for s in failed_seqs if log.present.get(s, 0) > 0)
    errors = [a for a in attempts if not a.acked]
    failed_after = sorted(a.done for a in errors if a.done > log.fault_at)
    first_error = failed_after[0] - log.fault_at if failed_after else None
    promoted = new_primary_event(log.topology, log.old_primary, log.fault_at)
    return TrialFigures(
        index=log.index,
        fault=log.fault,
        old_primary=log.old_primary,
        new_primary=promoted.primary if promoted else None,
        write_gap_s=gap[0] if gap else None,
        gap_from=gap[1] if gap else None,
        gap_to=gap[2] if gap else None,
        fault_to_new_primary_s=(promoted.at - log.fault_at) if promoted else None,
        acknowledged=len(acked),
        lost=lost,
        duplicates=duplicates,
        unacknowledged_present=ambiguous,
        attempts=len(attempts),
        errors=len(errors),
        error_kinds=dict(sorted(Counter(a.kind for a in errors).items())),
        first_error_after_fault_s=first_error,
        resumed_after_fault_s=(gap[2] - log.fault_at) if gap else None,
    )


# ---- across trials -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    p50: float | None
    p95: float | None
    max: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(percentile(values, 50), percentile(values, 95), max(values) if values else None)


@dataclass(frozen=True)
class FailoverSummary:
    trials: int
    recovered: int
    write_gap: Spread  # over recovered trials
    fault_to_new_primary: Spread
    acked_writes_lost: int
    duplicates: int
    unacknowledged_present: int

    @property
    def all_recovered(self) -> bool:
        return self.trials > 0 and self.recovered == self.trials


def summarise(figures: Sequence[TrialFigures]) -> FailoverSummary:
    gaps = [f.write_gap_s for f in figures if f.write_gap_s is not None]
    promotions = [f.fault_to_new_primary_s for f in figures if f.fault_to_new_primary_s is not None]
    return FailoverSummary(
        trials=len(figures),
        recovered=len(gaps),
        write_gap=Spread.of(gaps),
        fault_to_new_primary=Spread.of(promotions),
        acked_writes_lost=sum(len(f.lost) for f in figures),
        duplicates=sum(len(f.duplicates) for f in figures),
        unacknowledged_present=sum(f.unacknowledged_present for f in figures),
    )


@dataclass(frozen=True)
class Judgement:
    ok: bool
    detail: str


def judge_write_gaps(figures: Sequence[TrialFigures], threshold_s: float) -> Judgement:
    """Every trial recovered with a write gap under the threshold."""
    if not figures:
        return Judgement(False, "no failover trial ran")
    problems = []
    for f in figures:
        if f.write_gap_s is None:
            problems.append(f"trial {f.index}: writes did not resume within the observation window")
        elif f.write_gap_s >= threshold_s:
            problems.append(f"trial {f.index}: write gap {f.write_gap_s:.1f} s >= {threshold_s:g} s")
    summary = summarise(figures)
    spread = summary.write_gap
    count = len(figures)
    figures_text = (
        f"max write gap {spread.max:.1f} s (p50 {spread.p50:.1f} s, p95 {spread.p95:.1f} s) over {count} trial(s)"
        if spread.max is not None
        else f"no trial of {count} recovered"
    )
    if problems:
        return Judgement(False, f"{figures_text}; threshold < {threshold_s:g} s: " + "; ".join(problems))
    return Judgement(True, f"{figures_text} < {threshold_s:g} s")


def judge_losses(figures: Sequence[TrialFigures], durability_required: bool, durability: str) -> Judgement:
    """Lost acknowledged writes fail only when the manifest set promises required synchronous durability."""
    lost = [(f.index, s) for f in figures for s in f.lost]
    if not lost:
        return Judgement(True, f"no acknowledged write lost over {len(figures)} trial(s) ({durability})")
    where = ", ".join(f"trial {i} seq {s}" for i, s in lost[:10]) + (" ..." if len(lost) > 10 else "")
    if durability_required:
        return Judgement(False, f"{len(lost)} acknowledged write(s) lost although {durability}: {where}")
    return Judgement(
        True,
        f"warning: {len(lost)} acknowledged write(s) lost ({where}); accepted because {durability} "
        "(with asynchronous replication CloudNativePG documents that some data loss is expected on failover)",
    )


# ---- timeline for the report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEvent:
    at_s: float  # seconds relative to the fault
    label: str


def timeline_events(log: TrialLog, figures: TrialFigures) -> list[TimelineEvent]:
    """Fault, topology changes, first error, writes resuming (seconds relative to the fault).

    "Resumed" is the end of the write gap, not the first acknowledgement after the fault: that one can
    still come from the old primary in the instant before it died.
    """
    events = [TimelineEvent(0.0, "fault" if log.fault == "kill" else log.fault)]
    previous = None
    for change in sorted(log.topology, key=lambda e: e.at):
        # Only label changes: the topology is recorded whenever any detail changes (a replica's state).
        if change.at >= log.fault_at and change.label != previous:
            events.append(TimelineEvent(change.at - log.fault_at, change.label))
        previous = change.label
    if figures.first_error_after_fault_s is not None:
        events.append(TimelineEvent(figures.first_error_after_fault_s, "1st error"))
    if figures.resumed_after_fault_s is not None:
        events.append(TimelineEvent(figures.resumed_after_fault_s, "resumed"))
    return sorted(events, key=lambda e: e.at_s)


def merge_close_events(events: Sequence[TimelineEvent], min_separation_s: float) -> list[TimelineEvent]:
    """Join events closer than `min_separation_s` into one (labels joined with ", ") so chart labels stay legible."""
    merged: list[TimelineEvent] = []
    for event in sorted(events, key=lambda e: e.at_s):
        if merged and event.at_s - merged[-1].at_s < min_separation_s:
            merged[-1] = TimelineEvent(merged[-1].at_s, f"{merged[-1].label}, {event.label}")
        else:
            merged.append(event)
    return merged


def cumulative_series(attempts: Sequence[Attempt], fault_at: float, acked: bool) -> tuple[list[float], list[float]]:
    """x: seconds relative to the fault; y: running count of acknowledged (or failed) attempts."""
    times = sorted(a.done - fault_at for a in attempts if a.acked is acked)
    return times, [float(i) for i in range(1, len(times) + 1)]


def short_label(text: str, limit: int = 38) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
