"""Pure rules from test outcomes to criterion statuses and the Gate 1 verdict.

A skip is never a pass, and PASS means "meets Gate 1": tests that passed on evidence short of the gate
(scope or threshold) give PASSED_BELOW_GATE, which names what is short.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dbc_validate.criteria import Criterion
from dbc_validate.evidence import ThresholdVerdict
from dbc_validate.scope import Scope, reaches, strongest


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    NOT_RUN = "not_run"  # collected but never reached (deselected, interrupted)
    INTERRUPTED = "interrupted"  # interrupted while running, after recording partial evidence (kept, short of gate)


class Status(StrEnum):
    PASS = "PASS"  # meets Gate 1: cluster scope, threshold met
    PASSED_BELOW_GATE = "PASSED_BELOW_GATE"  # tests passed, but scope or threshold falls short of Gate 1
    FAIL = "FAIL"
    ERROR = "ERROR"
    NOT_RUN = "NOT_RUN"
    NOT_COVERED = "NOT_COVERED"


class Verdict(StrEnum):
    GO = "GO"
    NO_GO = "NO-GO"
    INCOMPLETE = "INCOMPLETE"


RAN = (Outcome.PASSED, Outcome.FAILED, Outcome.ERROR)
MEASURED = (*RAN, Outcome.INTERRUPTED)  # tests whose evidence counts (an interrupted one's is partial)


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest test class

    nodeid: str
    criteria: tuple[str, ...]
    outcome: Outcome
    scope: Scope | None  # from the capabilities the test asks for; known even when it did not run
    message: str = ""  # failure text or skip reason
    thresholds: tuple[ThresholdVerdict, ...] = ()
    duration_s: float = 0.0
    deselected: bool = False  # by -k/-m


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    status: Status
    scope: Scope | None
    meets_gate: bool
    tests: tuple[str, ...]
    reason: str
    measured: Mapping[str, Any] = field(default_factory=dict)
    short_of: tuple[str, ...] = ()  # compact phrases of what falls short of the gate: "local only", "1m00s of 48 h"


@dataclass(frozen=True)
class Gap:
    """One reason a passing criterion does not meet the gate: a compact phrase and the full sentence."""

    short: str
    detail: str


def _short(nodeid: str) -> str:
    return nodeid.rsplit("/", 1)[-1]


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _listing(tests: Sequence[TestResult]) -> str:
    """Tests with their first message line; tests sharing a message are named once, together."""
    by_message: dict[str, list[str]] = {}
    for test in tests:
        by_message.setdefault(_first_line(test.message) or test.outcome.value, []).append(_short(test.nodeid))
    return "; ".join(f"{', '.join(names)}: {message}" for message, names in by_message.items())


def _gate_gaps(criterion: Criterion, tests: Sequence[TestResult], scope: Scope | None) -> list[Gap]:
    """Why a passing criterion still does not meet the gate (empty list when it does)."""
    required = criterion.required_scope
    gaps = []
    cut = [t for t in tests if t.outcome is Outcome.INTERRUPTED]
    if cut:
        gaps.append(
            Gap(
                "interrupted: " + "; ".join(dict.fromkeys(_first_line(t.message) for t in cut)),
                "interrupted before it finished, evidence so far kept: " + _listing(cut),
            )
        )
    if not reaches(scope, required):
        reached = scope.value if scope else "unscoped"
        gaps.append(Gap(f"{reached} only", f"evidence is {reached}; Gate 1 requires {required.value} scope"))
    unproven = [t for t in tests if t.outcome not in MEASURED and reaches(t.scope, required)]
    if unproven:
        gaps.append(
            Gap(
                f"{len(unproven)} {required.value} test(s) not run",
                f"{len(unproven)} test(s) at {required.value} scope did not run: {_listing(unproven)}",
            )
        )
    if criterion.threshold is not None:
        ran = [t for t in tests if t.outcome in MEASURED]
        missed = [v.detail for t in ran for v in t.thresholds if v.criterion == criterion.id and not v.met]
        if missed:
            # Shown at any scope: a release manager wants "covered 60 s of 48 h" even when scope already blocks.
            gaps.append(Gap("; ".join(missed), "threshold not met: " + "; ".join(missed)))
        reported_at_scope = [
            v for t in ran if reaches(t.scope, required) for v in t.thresholds if v.criterion == criterion.id
        ]
        if not reported_at_scope and reaches(scope, required):
            gaps.append(
                Gap(
                    "threshold not reported",
                    f"no test at {required.value} scope reported the threshold ({criterion.threshold.describe()})",
                )
            )
    return gaps


def judge_criterion(
    criterion: Criterion, tests: Sequence[TestResult], measured: Mapping[str, Any] | None = None
) -> CriterionResult:
    """Status, scope and gate verdict of one criterion from the results of the tests carrying its id."""
    mine = [t for t in tests if criterion.id in t.criteria]
    nodeids = tuple(t.nodeid for t in mine)
    measured = dict(measured or {})
    if not mine:
        return CriterionResult(
            criterion, Status.NOT_COVERED, None, False, (), f"no test carries gate1({criterion.id!r}) yet", measured
        )
    ran = [t for t in mine if t.outcome in MEASURED]
    scope = strongest(t.scope for t in ran)
    failed = [t for t in mine if t.outcome is Outcome.FAILED]
    errored = [t for t in mine if t.outcome is Outcome.ERROR]
    if failed:
        return CriterionResult(criterion, Status.FAIL, scope, False, nodeids, "failed: " + _listing(failed), measured)
    if errored:
        return CriterionResult(criterion, Status.ERROR, scope, False, nodeids, "error: " + _listing(errored), measured)
    if not ran:
        return CriterionResult(criterion, Status.NOT_RUN, None, False, nodeids, "not run: " + _listing(mine), measured)
    gaps = _gate_gaps(criterion, mine, scope)
    skipped = [t for t in mine if t.outcome not in MEASURED]
    notes = [g.detail for g in gaps]
    if skipped and not any(reaches(t.scope, criterion.required_scope) for t in skipped):
        notes.append(f"also not run: {_listing(skipped)}")
    reason = "; ".join(notes) if notes else f"{len(ran)} test(s) passed at {scope.value if scope else '?'} scope"
    status = Status.PASSED_BELOW_GATE if gaps else Status.PASS
    return CriterionResult(criterion, status, scope, not gaps, nodeids, reason, measured, tuple(g.short for g in gaps))


def overall_verdict(results: Sequence[CriterionResult]) -> Verdict:
    if any(r.status in (Status.FAIL, Status.ERROR) for r in results):
        return Verdict.NO_GO
    if results and all(r.meets_gate for r in results):
        return Verdict.GO
    return Verdict.INCOMPLETE


_URGENCY = {
    Status.FAIL: 0,
    Status.ERROR: 0,
    Status.PASS: 1,
    Status.PASSED_BELOW_GATE: 1,
    Status.NOT_RUN: 2,
    Status.NOT_COVERED: 3,
}


def status_label(result: CriterionResult) -> str:
    """The status with what falls short, e.g. "PASSED_BELOW_GATE (local only)"."""
    if result.short_of:
        return f"{result.status.value} ({'; '.join(result.short_of)})"
    return result.status.value


def missing_for_go(results: Sequence[CriterionResult]) -> list[str]:
    """One line per criterion that keeps the verdict from GO: failures first, then catalog order."""
    blocking = sorted((r for r in results if not r.meets_gate), key=lambda r: _URGENCY[r.status])
    return [f"{r.criterion.id}: {status_label(r)} — {r.reason}" for r in blocking]
