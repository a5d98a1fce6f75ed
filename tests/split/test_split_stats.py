"""The split statistics: Wilson interval, Traefik's WRR model and bound, the sequential test's decisions."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dbc_validate.stats import (
    Outcome,
    SequentialSplitTest,
    SplitHypothesis,
    decide_counts,
    fixed_sample_size,
    integer_weights,
    percentile,
    wilson_interval,
    wrr_client_stream,
    wrr_deviation_bound,
    wrr_expected_counts,
    wrr_interval,
    wrr_prefix_deviation,
    wrr_schedule,
)

SEVENTY_THIRTY = {"prod": Fraction(7, 10), "stage": Fraction(3, 10)}


def test_wilson_interval_matches_a_published_value():
    # 95 % Wilson interval of 81 successes in 263 trials: (0.2553, 0.3662), from the literature's worked example.
    low, high = wilson_interval(81, 263, 0.95)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


@given(st.integers(0, 500), st.integers(1, 500), st.sampled_from([0.9, 0.95, 0.99]))
def test_wilson_interval_contains_the_observed_share_and_stays_in_0_1(hits, extra, confidence):
    n = hits + extra
    low, high = wilson_interval(hits, n, confidence)
    assert 0 <= low <= hits / n <= high <= 1


def test_wilson_interval_narrows_with_more_requests_and_rejects_bad_input():
    assert (
        wilson_interval(700, 1000)[1] - wilson_interval(700, 1000)[0]
        < wilson_interval(70, 100)[1] - (wilson_interval(70, 100)[0])
    )
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(5, 3)


def test_fixed_sample_size_for_70_30_against_65_35_at_one_percent_errors():
    assert fixed_sample_size(0.7, 0.65, 0.01, 0.01) == 2098
    assert fixed_sample_size(0.7, 0.65, 0.01, 0.01, two_sided=False) < 2098


def test_percentile_interpolates_and_handles_no_values():
    assert percentile([], 50) is None
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 95) == 5.0
    assert percentile(list(range(101)), 95) == 95
    assert percentile([10.0, 20.0], 95) == pytest.approx(19.5)


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=30), st.floats(0, 100), st.floats(0, 100))
def test_percentile_lies_within_the_values_and_grows_with_q(values, q1, q2):
    low, high = sorted((q1, q2))
    assert min(values) <= percentile(values, low) <= percentile(values, high) <= max(values)
    assert (percentile(values, 0), percentile(values, 100)) == (min(values), max(values))


@pytest.mark.parametrize("q", [-1, 100.5])
def test_percentile_outside_0_to_100_is_a_programming_error(q):
    with pytest.raises(ValueError, match=r"outside 0\.\.100"):
        percentile([1.0], q)


def test_integer_weights_reduce_shares_to_traefik_weights():
    assert integer_weights([Fraction(7, 10), Fraction(3, 10)]) == [7, 3]
    assert integer_weights([Fraction(1, 2), Fraction(1, 2)]) == [1, 1]
    assert integer_weights([Fraction(1, 3), Fraction(1, 6), Fraction(1, 2)]) == [2, 1, 3]


def test_wrr_schedule_is_the_order_traefik_3_7_served_in_the_lab():
    # Recorded through the real Traefik 3.7.15 with weights 70/30: prod prod stage prod prod stage prod prod ...
    assert wrr_schedule([7, 3], 8) == [0, 0, 1, 0, 0, 1, 0, 0]
    assert wrr_expected_counts([7, 3], 100) == [70, 30]
    assert wrr_expected_counts([7, 3], 25) == [18, 7]


def test_wrr_prefix_deviation_is_under_one_request():
    assert wrr_prefix_deviation([7, 3]) < 1
    assert wrr_prefix_deviation([1, 1]) <= 0.5
    assert wrr_prefix_deviation([97, 3]) < 1


def _traefik_stream(weights, replicas, in_flight, rng, names):
    return (names[i] for i in wrr_client_stream(weights, replicas, in_flight, rng))


@given(
    st.lists(st.integers(1, 40), min_size=2, max_size=4),
    st.integers(1, 3),
    st.integers(0, 6),
    st.integers(0, 2**31),
)
def test_counts_through_healthy_wrr_replicas_never_leave_the_bound(weights, replicas, in_flight, seed):
    rng = random.Random(seed)
    names = [f"v{i}" for i in range(len(weights))]
    shares = [w / sum(weights) for w in weights]
    bound = wrr_deviation_bound(weights, replicas, in_flight)
    counts = dict.fromkeys(names, 0)
    stream = _traefik_stream(weights, replicas, in_flight, rng, names)
    for n in range(1, 600):
        counts[next(stream)] += 1
        for name, share in zip(names, shares, strict=True):
            assert abs(counts[name] - n * share) <= bound


def test_wrr_bound_rejects_a_bad_replica_count():
    with pytest.raises(ValueError):
        wrr_deviation_bound([7, 3], 0, 0)


def _run(test: SequentialSplitTest, stream, limit: int = 50_000):
    for variant in stream:
        decision = test.observe(variant)
        if decision.outcome is not Outcome.CONTINUE or test.requests >= limit:
            return decision
    return test.decision


def test_sequential_test_accepts_a_true_70_30_from_traefik_and_rejects_65_35_and_50_50():
    rng = random.Random(1)
    hypothesis = SplitHypothesis(SEVENTY_THIRTY, replicas=1, in_flight=4)
    accepted = _run(SequentialSplitTest(hypothesis), _traefik_stream([7, 3], 1, 4, rng, ["prod", "stage"]))
    assert accepted.outcome is Outcome.ACCEPT and accepted.decided_by == "wrr-bound"
    assert accepted.requests == hypothesis.accept_after
    for weights in ([13, 7], [1, 1]):
        rejected = _run(SequentialSplitTest(hypothesis), _traefik_stream(weights, 1, 4, rng, ["prod", "stage"]))
        assert rejected.outcome is Outcome.REJECT, weights
        assert rejected.requests < hypothesis.accept_after


def test_sequential_test_rejects_responses_without_the_marker():
    hypothesis = SplitHypothesis(SEVENTY_THIRTY, replicas=1, in_flight=0)
    test = SequentialSplitTest(hypothesis)
    stream = iter(["prod", "prod", "stage"] * 3 + ["(no marker)"] * 10)
    decision = _run(test, stream)
    assert decision.outcome is Outcome.REJECT
    assert "(no marker)" in decision.reason


def test_model_free_sprt_decides_independent_requests_when_replicas_are_unknown():
    rng = random.Random(3)
    hypothesis = SplitHypothesis(SEVENTY_THIRTY, replicas=None)
    assert hypothesis.bound is None

    def independent(p: float):
        while True:
            yield "prod" if rng.random() < p else "stage"

    accepted = _run(SequentialSplitTest(hypothesis), independent(0.7))
    rejected = _run(SequentialSplitTest(hypothesis), independent(0.6))
    assert (accepted.outcome, accepted.decided_by) == (Outcome.ACCEPT, "sprt")
    assert (rejected.outcome, rejected.decided_by) == (Outcome.REJECT, "sprt")


def test_a_decision_latches():
    test = SequentialSplitTest(SplitHypothesis(SEVENTY_THIRTY, replicas=1))
    for _ in range(10):
        test.observe("stage")
    assert test.decision.outcome is Outcome.REJECT
    decided_at = test.requests
    assert decided_at < 10
    assert test.observe("prod") == test.decision
    assert test.requests == decided_at


def test_decide_counts_judges_final_counts_such_as_server_counters():
    hypothesis = SplitHypothesis(SEVENTY_THIRTY, replicas=1, in_flight=4)
    assert decide_counts(hypothesis, {"prod": 182, "stage": 78}).outcome is Outcome.ACCEPT
    assert decide_counts(hypothesis, {"prod": 130, "stage": 130}).outcome is Outcome.REJECT
    assert decide_counts(hypothesis, {"prod": 7, "stage": 3}).outcome is Outcome.CONTINUE
    assert decide_counts(hypothesis, {}).outcome is Outcome.CONTINUE


def test_hypothesis_validation_and_description():
    with pytest.raises(ValueError):
        SplitHypothesis({"prod": Fraction(1)})
    with pytest.raises(ValueError):
        SplitHypothesis({"prod": Fraction(1, 2), "stage": Fraction(1, 3)})
    with pytest.raises(ValueError):
        SplitHypothesis(SEVENTY_THIRTY, delta=0)
    text = SplitHypothesis(SEVENTY_THIRTY, replicas=2, in_flight=4).describe()
    assert "70/30" in text and "2 replica(s)" in text and "alpha=0.01" in text


def test_three_variants_use_one_sided_tests_per_variant():
    shares = {"a": Fraction(1, 2), "b": Fraction(1, 4), "c": Fraction(1, 4)}
    test = SequentialSplitTest(SplitHypothesis(shares, replicas=1))
    stream = iter(wrr_schedule([2, 1, 1], 400))
    decision = _run(test, ("abc"[i] for i in stream))
    assert decision.outcome is Outcome.ACCEPT


def test_wrr_interval_brackets_the_configured_share():
    low, high = wrr_interval(180, 257, 6.4)
    assert low < 0.7 < high
    assert math.isclose(high - low, 2 * 6.4 / 257)
    assert wrr_interval(0, 0, 3) == (0.0, 1.0)
