"""The split verdict from both sides: known-good and known-bad client/server counts and failure rates."""

from __future__ import annotations

import pytest

from dbc_validate.analysis.split_verdict import FAILED_REQUESTS_MAX, SplitSides, allowed_disagreement, judge_split
from dbc_validate.stats import Outcome, SplitDecision

ACCEPT = SplitDecision(Outcome.ACCEPT, 1000, "wrr-bound", "within the bound")
REJECT = SplitDecision(Outcome.REJECT, 1000, "wrr-bound", "prod 600 outside 700 ± 6.4")
UNDECIDED = SplitDecision(Outcome.CONTINUE, 1000)
CLIENT = {"prod": 700, "stage": 300}


def sides(**changes) -> SplitSides:
    base = {"client": ACCEPT, "client_counts": CLIENT, "bound": 6.4}
    return SplitSides(**(base | changes))


def test_agreeing_sides_pass():
    verdict = judge_split(sides(server=ACCEPT, server_counts={"prod": 702, "stage": 301}))
    assert verdict.passed and verdict.problems == () and verdict.server_checked


def test_client_only_passes_and_says_the_server_did_not_take_part():
    verdict = judge_split(sides())
    assert verdict.passed and not verdict.server_checked


def test_a_server_side_reject_fails_even_when_the_client_accepts():
    verdict = judge_split(sides(server=REJECT, server_counts={"prod": 704, "stage": 300}))
    assert not verdict.passed
    assert any(p.startswith("server side (Traefik metrics) rejects the split") for p in verdict.problems)


def test_sides_disagreeing_beyond_the_bound_fail():
    verdict = judge_split(sides(server=ACCEPT, server_counts={"prod": 700, "stage": 320}))
    assert not verdict.passed
    assert verdict.problems == (
        "stage: Traefik counted 320 requests, the client 300: they differ by 20, more than the 6.4 allowed",
    )


def test_a_variant_only_the_server_saw_counts_as_disagreement():
    verdict = judge_split(sides(server=ACCEPT, server_counts={"prod": 700, "stage": 300, "canary": 50}))
    assert not verdict.passed and "canary: Traefik counted 50" in verdict.problems[0]


def test_failed_requests_above_the_threshold_fail_and_at_it_pass():
    at_limit = round(1000 * FAILED_REQUESTS_MAX / (1 - FAILED_REQUESTS_MAX))  # 10 of 1010 sent
    assert judge_split(sides(failures=at_limit)).passed
    verdict = judge_split(sides(failures=50))
    assert not verdict.passed and verdict.problems[0].startswith("50 of 1050 requests failed (4.76 %, more than 1 %)")


def test_failed_requests_widen_the_allowance_they_may_explain():
    assert allowed_disagreement(sides(failures=5)) == pytest.approx(11.4)
    assert judge_split(sides(failures=5, server=ACCEPT, server_counts={"prod": 710, "stage": 300})).passed


def test_without_a_bound_the_tolerance_on_the_requests_sent_is_the_allowance():
    assert allowed_disagreement(sides(bound=None, delta=0.05)) == pytest.approx(50.0)


@pytest.mark.parametrize("client", [REJECT, UNDECIDED])
def test_the_client_must_accept(client):
    verdict = judge_split(sides(client=client, server=ACCEPT, server_counts=CLIENT))
    assert not verdict.passed and verdict.problems[0].startswith("client side")


def test_nothing_answered_is_a_failure():
    verdict = judge_split(sides(client=UNDECIDED, client_counts={"prod": 0, "stage": 0}))
    assert not verdict.passed and "no request was answered" in verdict.problems
