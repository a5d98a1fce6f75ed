"""GO is reachable: a run whose every criterion has cluster-scope evidence meeting its threshold is GO, and each
single missing piece turns it INCOMPLETE with one line naming that criterion and what is missing (pure)."""

from __future__ import annotations

import pytest

from dbc_validate.criteria import CATALOG, Criterion
from dbc_validate.evidence import ThresholdVerdict
from dbc_validate.report.verdict import (
    Outcome,
    Status,
    TestResult,
    Verdict,
    judge_criterion,
    missing_for_go,
    overall_verdict,
)
from dbc_validate.scope import Scope

WITH_THRESHOLD = [c for c in CATALOG if c.threshold is not None]


def proof(criterion: Criterion, **changes) -> TestResult:
    """One test that proves `criterion` at cluster scope, its threshold (if any) reported as met."""
    met = (ThresholdVerdict(criterion.id, True, "met"),) if criterion.threshold else ()
    base = {
        "nodeid": f"suites/gate1/test_x.py::test_{criterion.id}",
        "criteria": (criterion.id,),
        "outcome": Outcome.PASSED,
        "scope": Scope.CLUSTER,
        "thresholds": met,
    }
    return TestResult(**(base | changes))


def judge(tests: list[TestResult]):
    results = [judge_criterion(c, tests) for c in CATALOG]
    return overall_verdict(results), results


def test_cluster_scope_evidence_meeting_every_threshold_is_go():
    verdict, results = judge([proof(c) for c in CATALOG])
    assert verdict is Verdict.GO
    assert {r.status for r in results} == {Status.PASS} and missing_for_go(results) == []


def _one_line_for(criterion: Criterion, tests: list[TestResult]) -> str:
    verdict, results = judge(tests)
    assert verdict is Verdict.INCOMPLETE
    (line,) = missing_for_go(results)
    assert line.startswith(f"{criterion.id}: ")
    return line


@pytest.mark.parametrize("criterion", CATALOG, ids=lambda c: c.id)
def test_a_criterion_whose_test_did_not_run_keeps_go_away(criterion):
    tests = [proof(c) if c is not criterion else proof(c, outcome=Outcome.SKIPPED, message="why not") for c in CATALOG]
    assert _one_line_for(criterion, tests).startswith(f"{criterion.id}: NOT_RUN")


@pytest.mark.parametrize("criterion", CATALOG, ids=lambda c: c.id)
def test_a_criterion_proven_only_locally_keeps_go_away(criterion):
    tests = [proof(c) if c is not criterion else proof(c, scope=Scope.LOCAL) for c in CATALOG]
    assert _one_line_for(criterion, tests).startswith(f"{criterion.id}: PASSED_BELOW_GATE (local only")


@pytest.mark.parametrize("criterion", CATALOG, ids=lambda c: c.id)
def test_a_criterion_without_any_test_keeps_go_away(criterion):
    tests = [proof(c) for c in CATALOG if c is not criterion]
    assert _one_line_for(criterion, tests).startswith(f"{criterion.id}: NOT_COVERED")


@pytest.mark.parametrize("criterion", WITH_THRESHOLD, ids=lambda c: c.id)
def test_a_threshold_missed_keeps_go_away_and_names_the_figure(criterion):
    missed = (ThresholdVerdict(criterion.id, False, "covered 1 min of 48 h"),)
    tests = [proof(c) if c is not criterion else proof(c, thresholds=missed) for c in CATALOG]
    line = _one_line_for(criterion, tests)
    assert line.startswith(f"{criterion.id}: PASSED_BELOW_GATE (covered 1 min of 48 h)")


@pytest.mark.parametrize("criterion", WITH_THRESHOLD, ids=lambda c: c.id)
def test_a_threshold_nobody_reported_keeps_go_away(criterion):
    tests = [proof(c) if c is not criterion else proof(c, thresholds=()) for c in CATALOG]
    assert _one_line_for(criterion, tests).startswith(f"{criterion.id}: PASSED_BELOW_GATE (threshold not reported)")


def test_a_failure_anywhere_is_no_go_not_incomplete():
    tests = [proof(c) for c in CATALOG[1:]] + [proof(CATALOG[0], outcome=Outcome.FAILED, message="node NotReady")]
    assert judge(tests)[0] is Verdict.NO_GO
