"""Gate 1 stability criteria, live: no pod crash-looping (nor restarting since the deploy settled) and
resource usage under the threshold, from pod status and the metrics API."""

from __future__ import annotations

import pytest

from dbc_validate.analysis.findings import brief_report
from dbc_validate.analysis.live.headroom import container_usage, headroom_findings, node_usage, peaks
from dbc_validate.analysis.live.pods import crashloop_findings

pytestmark = pytest.mark.live


@pytest.mark.gate1("stability.no_crashloops")
def test_no_pod_crashloops_or_restarts_after_deploy(cluster, gate1_evidence):
    pods = cluster.in_namespaces("pods")
    baseline = cluster.record.baseline_restarts if cluster.record is not None else None
    findings = crashloop_findings(pods, baseline)
    gate1_evidence.measure("pods", len(pods))
    gate1_evidence.threshold(not findings, f"{len(findings)} container(s) crash-looping or restarting")
    assert not findings, brief_report(findings)


@pytest.mark.gate1("stability.resource_headroom")
def test_cpu_and_memory_stay_under_the_threshold(cluster, gate1_criterion, gate1_evidence):
    limit = float(gate1_criterion.threshold.value)
    nodes = node_usage(cluster.node_metrics(), cluster.items("nodes"))
    containers = container_usage(cluster.pod_metrics(), cluster.in_namespaces("pods"))
    if not nodes:
        pytest.fail("the metrics API returned no node sample (is metrics-server running?)")
    cpu, memory = peaks(nodes)
    # The metrics API gives one current sample per node: the figure is the highest node at that moment, not a peak
    # over time (the soak's resource_headroom test samples over the run).
    gate1_evidence.measure("node_cpu_percent", cpu, "%", label="CPU of the busiest node, one sample (metrics API)")
    gate1_evidence.measure(
        "node_memory_percent", memory, "%", label="memory of the busiest node, one sample (metrics API)"
    )
    findings = headroom_findings([*nodes, *containers], limit)
    shown = ", ".join(
        f"{name} {value:.0f} %" for name, value in (("CPU", cpu), ("memory", memory)) if value is not None
    )
    gate1_evidence.threshold(
        not findings, f"busiest node at one sample: {shown or 'usage unknown'} (limit {limit:g} %)"
    )
    assert not findings, brief_report(findings)
