"""Gate 1: traffic is split between prod and stage as Gate 1 requires (70/30), measured through Traefik.

The `ingress` capability is the local Traefik built from the manifests' IngressRoutes (local target) or the
cluster's Traefik (cluster targets). Locust drives each weighted route until a sequential test decides.
"""

from __future__ import annotations

import pytest

from dbc_validate.analysis.split_check import format_split, required_split, split_routes
from dbc_validate.probes.load_topology import load_topology
from dbc_validate.probes.split_load import SplitSettings, measure_split

pytestmark = pytest.mark.gate1("applications.traffic_split")


def test_measured_split_through_traefik_matches_the_gate1_split(
    ingress, gate1_criterion, gate1_evidence, gate1_progress, gate1_settings
):
    required = required_split(gate1_criterion.threshold)
    routes = split_routes(ingress.routes)
    gate1_evidence.note(f"measured on {ingress.description}")
    for note in ingress.notes:
        gate1_evidence.note(note)
    if not routes:
        gate1_evidence.threshold(False, "no weighted route with two or more variants in the manifest set")
        pytest.fail(
            f"the manifest set declares no weighted IngressRoute route splitting traffic; Gate 1 requires "
            f"{required.describe()} (served routes: {[r.source for r in ingress.routes]})"
        )
    settings = SplitSettings(load=load_topology(gate1_settings))
    results = [measure_split(ingress, route, required, gate1_progress, settings) for route in routes]
    for result in results:
        prefix = "" if len(results) == 1 else f"{result.route} "
        for key, value in result.as_measurements().items():
            gate1_evidence.measure(prefix + key, value)
        for line in result.details():
            gate1_evidence.note(line)
        gate1_evidence.threshold(
            result.passed,
            f"{result.route}: measured {format_split(result.share())} over {result.requests} requests "
            f"against {format_split(result.required)}",
        )
    failed = [r.verdict() for r in results if not r.passed]
    if failed:
        pytest.fail("; ".join(failed))
