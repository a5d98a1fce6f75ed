"""Gate 1 security.network_policies, live: a canary proves the CNI enforces policies, then the engine's
expected matrix is probed (one ephemeral probe container per source pod runs all its connects) and
compared cell by cell."""

from __future__ import annotations

import pytest

from dbc_validate.analysis.findings import brief_report
from dbc_validate.analysis.live.expected import expected_flows, pod_selectors
from dbc_validate.analysis.live.netprobe import (
    SourceProbe,
    Verdict,
    cells_to_reprobe,
    compare,
    matrix_findings,
    merge,
    parse_probe_output,
    plan_probes,
    summary,
)
from dbc_validate.analysis.netpol import build_model

pytestmark = [pytest.mark.live, pytest.mark.destructive]  # creates a canary namespace and ephemeral containers


@pytest.fixture(scope="module")
def canary(cluster):
    return cluster.canary()


@pytest.mark.gate1("security.network_policies")
def test_cni_enforces_a_deny_all_policy(canary, gate1_evidence):
    gate1_evidence.note(canary.reason)
    gate1_evidence.threshold(canary.enforcing, canary.reason)
    assert canary.enforcing, canary.reason


@pytest.mark.gate1("security.network_policies")
def test_live_connectivity_matches_the_expected_matrix(cluster, canary, gate1_evidence, gate1_progress):
    if not canary.enforcing:
        pytest.fail(f"the CNI does not enforce NetworkPolicy, so no probe can confirm a policy: {canary.reason}")
    model = build_model(cluster.manifest_set)  # the engine of the static check: one computation for both
    pods = cluster.items("pods")  # every namespace: flows include kube-dns and the add-ons
    plan = plan_probes(expected_flows(model), pods, pod_selectors(model))

    def probe(sources):
        seen = {}
        for number, source in enumerate(sources, start=1):
            where = f"{source.namespace}/{source.pod}"
            gate1_progress(f"network: probing {len(source.cells)} flow(s) from {where} ({number}/{len(sources)})")
            seen.update(parse_probe_output(cluster.run_probe(source), source.cells))
        return seen

    observations = probe(plan.sources)
    assert canary.blocked_signature is not None
    results = compare(plan.cells, observations, canary.blocked_signature)
    again = {c.id for c in cells_to_reprobe(results)}
    if again:
        retry = [SourceProbe(s.namespace, s.pod, tuple(c for c in s.cells if c.id in again)) for s in plan.sources]
        observations = merge(observations, probe([s for s in retry if s.cells]))
        results = compare(plan.cells, observations, canary.blocked_signature)
    counts = summary(results)
    gate1_evidence.measure("flows", len(results))
    for verdict, count in counts.items():
        gate1_evidence.measure(f"flows_{verdict.replace(' ', '_')}", count)
    probed = len(results) - counts[Verdict.NOT_PROBED.value]
    findings = matrix_findings(results)
    gate1_evidence.threshold(probed > 0 and not findings, f"{counts[Verdict.MATCH.value]}/{probed} probed flows match")
    for cell in plan.unprobed:
        gate1_evidence.note(f"not probed: {cell.label}: {cell.skip_reason}")
    assert probed > 0, "no flow of the expected matrix could be probed"
    assert not findings, brief_report(findings, limit=40)
