"""Declared Traefik routes: applications.traffic_split's declared weights (the live split is measured elsewhere)."""

from __future__ import annotations

import pytest

from dbc_validate.analysis import analyze
from dbc_validate.analysis.findings import failure_report
from dbc_validate.analysis.ingress import route_object
from dbc_validate.manifests.traefik_routes import http_routes, legacy_objects


@pytest.mark.static
@pytest.mark.gate1("applications.traffic_split")
def test_weighted_routes_declare_the_expected_split(manifest_set, gate1_criterion, gate1_evidence):
    expected = str(gate1_criterion.threshold.value)
    result = analyze(manifest_set, expected_split=expected)
    splits = [route for route in http_routes(manifest_set) if route.is_split]
    for route in splits:
        ref, where = route_object(route)
        shares = {variant: round(float(share) * 100, 2) for variant, share in route.shares().items()}
        gate1_evidence.measure(f"declared_split {ref} {where}", shares, "%")
    mismatches = result.of_rule("ingress.split-mismatch", "ingress.legacy-traefik-group")
    gate1_evidence.threshold(bool(splits) and not mismatches, f"{len(splits)} weighted route(s); expected {expected}")
    legacy = ", ".join(o.ref for o in legacy_objects(manifest_set))
    hint = f" ({legacy} use the removed traefik.containo.us group, which Traefik v3 ignores)" if legacy else ""
    assert splits, f"no traefik.io IngressRoute in {manifest_set.source} splits traffic between variants{hint}"
    assert not mismatches, failure_report(mismatches, f"weighted routes do not declare {expected}")
