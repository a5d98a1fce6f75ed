"""The status and verdict rules of the Gate 1 report, proven on explicit cases and Hypothesis properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dbc_validate.criteria import CATALOG, by_id
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

NON_ROOT = by_id("security.non_root")  # no threshold
FAILOVER = by_id("databases.failover")  # threshold: recovery < 30 s


def result(
    outcome: Outcome,
    scope: Scope | None = Scope.CLUSTER,
    criterion: str = NON_ROOT.id,
    name: str = "t",
    thresholds: tuple[ThresholdVerdict, ...] = (),
) -> TestResult:
    return TestResult(f"suites/gate1/test_x.py::{name}", (criterion,), outcome, scope, "why", thresholds)


def test_a_criterion_without_tests_is_not_covered() -> None:
    judged = judge_criterion(NON_ROOT, [result(Outcome.PASSED, criterion="security.rbac")])
    assert judged.status is Status.NOT_COVERED
    assert not judged.meets_gate


def test_one_failure_among_passes_fails_the_criterion() -> None:
    judged = judge_criterion(NON_ROOT, [result(Outcome.PASSED, name="a"), result(Outcome.FAILED, name="b")])
    assert judged.status is Status.FAIL
    assert "b" in judged.reason


def test_an_errored_test_makes_the_criterion_error() -> None:
    assert judge_criterion(NON_ROOT, [result(Outcome.ERROR)]).status is Status.ERROR


def test_only_skips_give_not_run_with_the_skip_reasons() -> None:
    judged = judge_criterion(NON_ROOT, [result(Outcome.SKIPPED)])
    assert judged.status is Status.NOT_RUN
    assert "why" in judged.reason
    assert not judged.meets_gate


def test_a_pass_below_the_required_scope_does_not_meet_the_gate() -> None:
    judged = judge_criterion(NON_ROOT, [result(Outcome.PASSED, Scope.LOCAL)])
    assert judged.status is Status.PASSED_BELOW_GATE
    assert judged.scope is Scope.LOCAL
    assert not judged.meets_gate
    assert "requires cluster" in judged.reason
    assert judged.short_of == ("local only",)


def test_a_pass_at_cluster_scope_is_a_plain_pass() -> None:
    judged = judge_criterion(NON_ROOT, [result(Outcome.PASSED)])
    assert judged.status is Status.PASS and judged.meets_gate and judged.short_of == ()


def test_the_scope_is_the_strongest_among_tests_that_ran() -> None:
    judged = judge_criterion(
        NON_ROOT,
        [
            result(Outcome.PASSED, Scope.STATIC, name="a"),
            result(Outcome.PASSED, Scope.LOCAL, name="b"),
            result(Outcome.SKIPPED, Scope.CLUSTER, name="c"),
        ],
    )
    assert judged.scope is Scope.LOCAL


def test_a_skipped_cluster_test_keeps_a_passing_criterion_from_the_gate() -> None:
    judged = judge_criterion(NON_ROOT, [result(Outcome.PASSED, name="a"), result(Outcome.SKIPPED, name="b")])
    assert judged.status is Status.PASSED_BELOW_GATE
    assert not judged.meets_gate
    assert judged.short_of == ("1 cluster test(s) not run",)


def test_a_threshold_criterion_needs_a_reported_threshold_verdict() -> None:
    unreported = judge_criterion(FAILOVER, [result(Outcome.PASSED, criterion=FAILOVER.id)])
    assert not unreported.meets_gate and unreported.status is Status.PASSED_BELOW_GATE
    met = judge_criterion(
        FAILOVER,
        [result(Outcome.PASSED, criterion=FAILOVER.id, thresholds=(ThresholdVerdict(FAILOVER.id, True, "12 s"),))],
    )
    assert met.meets_gate and met.status is Status.PASS
    missed = judge_criterion(
        FAILOVER,
        [
            result(
                Outcome.PASSED,
                criterion=FAILOVER.id,
                thresholds=(ThresholdVerdict(FAILOVER.id, False, "covered 60 s"),),
            )
        ],
    )
    assert missed.status is Status.PASSED_BELOW_GATE and not missed.meets_gate
    assert "covered 60 s" in missed.reason and missed.short_of == ("covered 60 s",)


def test_a_threshold_met_only_at_local_scope_does_not_count() -> None:
    judged = judge_criterion(
        FAILOVER,
        [
            result(
                Outcome.PASSED,
                Scope.LOCAL,
                criterion=FAILOVER.id,
                thresholds=(ThresholdVerdict(FAILOVER.id, True, "ok"),),
            )
        ],
    )
    assert not judged.meets_gate and judged.status is Status.PASSED_BELOW_GATE


def test_a_short_soak_names_its_coverage_in_the_status() -> None:
    soak = by_id("stability.soak")
    judged = judge_criterion(
        soak,
        [
            result(
                Outcome.PASSED,
                Scope.LOCAL,
                criterion=soak.id,
                thresholds=(ThresholdVerdict(soak.id, False, "covered time 1m00s of 48 h (0.03 %)"),),
            )
        ],
    )
    assert judged.status is Status.PASSED_BELOW_GATE
    assert judged.short_of == ("local only", "covered time 1m00s of 48 h (0.03 %)")
    assert missing_for_go([judged])[0].startswith("stability.soak: PASSED_BELOW_GATE (local only; covered time 1m00s")


# ---- properties over whole catalogs --------------------------------------------------------------------

outcomes = st.sampled_from(list(Outcome))
scopes = st.sampled_from([None, Scope.STATIC, Scope.LOCAL, Scope.CLUSTER])
criterion_ids = st.sampled_from([c.id for c in CATALOG])


@st.composite
def random_runs(draw: st.DrawFn) -> list[TestResult]:
    count = draw(st.integers(0, 30))
    results = []
    for index in range(count):
        ids = tuple(draw(st.lists(criterion_ids, min_size=1, max_size=2, unique=True)))
        thresholds = tuple(ThresholdVerdict(i, draw(st.booleans()), "d") for i in ids if draw(st.booleans()))
        results.append(TestResult(f"t::{index}", ids, draw(outcomes), draw(scopes), "m", thresholds))
    return results


def perfect_run() -> list[TestResult]:
    """One passing cluster-scope test per criterion, thresholds met: the only shape that earns GO."""
    return [
        TestResult(
            f"p::{c.id}",
            (c.id,),
            Outcome.PASSED,
            Scope.CLUSTER,
            "",
            (ThresholdVerdict(c.id, True, "met"),) if c.threshold else (),
        )
        for c in CATALOG
    ]


@st.composite
def near_perfect_runs(draw: st.DrawFn) -> list[TestResult]:
    """A perfect run with a few random changes, so GO and its near misses are explored too."""
    results = perfect_run()
    for _ in range(draw(st.integers(0, 3))):
        index = draw(st.integers(0, len(results) - 1))
        r = results[index]
        change = draw(st.sampled_from(["outcome", "scope", "threshold", "drop", "extra"]))
        if change == "outcome":
            results[index] = TestResult(r.nodeid, r.criteria, draw(outcomes), r.scope, "m", r.thresholds)
        elif change == "scope":
            results[index] = TestResult(r.nodeid, r.criteria, r.outcome, draw(scopes), "m", r.thresholds)
        elif change == "threshold":
            results[index] = TestResult(
                r.nodeid,
                r.criteria,
                r.outcome,
                r.scope,
                "m",
                tuple(ThresholdVerdict(t.criterion, False, "missed") for t in r.thresholds),
            )
        elif change == "drop":
            results.pop(index)
        else:
            results.append(TestResult(f"x::{index}", r.criteria, draw(outcomes), draw(scopes), "m"))
        if not results:
            break
    return results


gate1_results = st.one_of(random_runs(), near_perfect_runs())


def judge_all(results: list[TestResult]):
    return [judge_criterion(c, results) for c in CATALOG]


@given(gate1_results)
def test_any_fail_or_error_gives_no_go(results: list[TestResult]) -> None:
    judged = judge_all(results)
    if any(j.status in (Status.FAIL, Status.ERROR) for j in judged):
        assert overall_verdict(judged) is Verdict.NO_GO
    else:
        assert overall_verdict(judged) is not Verdict.NO_GO


def test_the_perfect_run_is_go_and_the_empty_run_is_incomplete() -> None:
    assert overall_verdict(judge_all(perfect_run())) is Verdict.GO
    assert overall_verdict(judge_all([])) is Verdict.INCOMPLETE


@given(gate1_results)
def test_go_if_and_only_if_every_criterion_meets_the_gate(results: list[TestResult]) -> None:
    judged = judge_all(results)
    assert (overall_verdict(judged) is Verdict.GO) == all(j.meets_gate for j in judged)
    assert (overall_verdict(judged) is Verdict.GO) == (missing_for_go(judged) == [])


@given(gate1_results)
def test_skips_never_count_as_pass(results: list[TestResult]) -> None:
    for judged in judge_all(results):
        mine = [r for r in results if judged.criterion.id in r.criteria]
        if judged.status is Status.PASS:
            assert any(r.outcome is Outcome.PASSED for r in mine)
        if judged.status is Status.PASSED_BELOW_GATE:
            assert any(r.outcome in (Outcome.PASSED, Outcome.INTERRUPTED) for r in mine)
        if mine and all(r.outcome in (Outcome.SKIPPED, Outcome.NOT_RUN) for r in mine):
            assert judged.status is Status.NOT_RUN


@given(gate1_results)
def test_pass_means_exactly_meets_the_gate(results: list[TestResult]) -> None:
    for judged in judge_all(results):
        assert (judged.status is Status.PASS) == judged.meets_gate
        assert (judged.status is Status.PASSED_BELOW_GATE) == bool(judged.short_of)


@given(gate1_results)
def test_meeting_the_gate_needs_a_cluster_scope_pass(results: list[TestResult]) -> None:
    for judged in judge_all(results):
        if judged.meets_gate:
            assert judged.status is Status.PASS
            assert judged.scope is Scope.CLUSTER


@given(gate1_results)
def test_turning_a_pass_into_a_skip_never_improves_the_verdict(results: list[TestResult]) -> None:
    rank = {Verdict.NO_GO: 0, Verdict.INCOMPLETE: 1, Verdict.GO: 2}
    before = overall_verdict(judge_all(results))
    degraded = [
        TestResult(
            r.nodeid,
            r.criteria,
            Outcome.SKIPPED if r.outcome is Outcome.PASSED else r.outcome,
            r.scope,
            r.message,
            r.thresholds,
        )
        for r in results
    ]
    assert rank[overall_verdict(judge_all(degraded))] <= rank[before]


def test_missing_for_go_lists_failures_first() -> None:
    judged = judge_all(
        [
            result(Outcome.PASSED, Scope.LOCAL, criterion="infrastructure.nodes_ready", name="a"),
            result(Outcome.FAILED, criterion="stability.soak", name="b"),
        ]
    )
    lines = missing_for_go(judged)
    assert lines[0].startswith("stability.soak: FAIL")
    assert lines[1].startswith("infrastructure.nodes_ready: PASSED_BELOW_GATE (local only)")


def test_a_missed_threshold_is_reported_even_below_the_required_scope() -> None:
    judged = judge_criterion(
        FAILOVER,
        [
            result(
                Outcome.PASSED,
                Scope.LOCAL,
                criterion=FAILOVER.id,
                thresholds=(ThresholdVerdict(FAILOVER.id, False, "gap 41 s"),),
            )
        ],
    )
    assert "threshold not met: gap 41 s" in judged.reason and not judged.meets_gate


def test_tests_skipped_for_the_same_reason_are_listed_once() -> None:
    judged = judge_criterion(NON_ROOT, [result(Outcome.SKIPPED, name="a"), result(Outcome.SKIPPED, name="b")])
    assert judged.reason == "not run: test_x.py::a, test_x.py::b: why"


@given(gate1_results)
def test_an_interrupted_test_keeps_its_criterion_short_of_the_gate_never_not_run(results: list[TestResult]) -> None:
    for judged in judge_all(results):
        mine = [r for r in results if judged.criterion.id in r.criteria]
        if any(r.outcome is Outcome.INTERRUPTED for r in mine):
            assert not judged.meets_gate
            assert judged.status is not Status.NOT_RUN
            if judged.status is Status.PASSED_BELOW_GATE:
                assert any(short.startswith("interrupted: ") for short in judged.short_of)
