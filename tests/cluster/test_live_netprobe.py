"""Live NetworkPolicy probing decided on recorded-shape pods and flows: plan, script, parse, canary, verdicts."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

import pytest
from cluster_fixtures import MANIFEST_SET, objs

from dbc_validate.analysis.live.expected import common_labels, expected_flows, pod_selectors
from dbc_validate.analysis.live.netprobe import (
    PROBE_DONE,
    Cell,
    Observation,
    Outcome,
    Verdict,
    canary_objects,
    canary_should_retry,
    canary_verdict,
    cells_to_reprobe,
    classify,
    compare,
    ephemeral_state,
    judge,
    matrix_findings,
    parse_probe_output,
    plan_probes,
    pods_of,
    probe_container,
    probe_script,
    resolve_port,
    summary,
)
from dbc_validate.analysis.netpol import build_model
from dbc_validate.manifests.model import load_manifest_set

PODS = ("wordpress_ready", "mysql_ready", "coredns", "traefik", "cnpg_primary", "cnpg_replica_2", "crashloop")


@dataclass(frozen=True)
class Flow:
    source: str
    destination: str
    port: int | str
    protocol: str
    allowed: bool


FLOWS = [
    Flow("ingress-system/traefik", "prod/wordpress", 8080, "TCP", True),
    Flow("prod/wordpress", "infra/mysql", "mysql", "TCP", True),
    Flow("prod/wordpress", "kube-system/kube-dns", 53, "UDP", True),
    Flow("prod/wordpress", "kube-system/kube-dns", 53, "TCP", True),
    Flow("prod/wordpress", "infra/postgres-cluster", 5432, "TCP", False),
    Flow("prod/logto", "infra/mysql", 3306, "TCP", False),  # logto's only pod crash-loops
    Flow("prod/wordpress", "kube-system/kube-dns", 9153, "SCTP", False),
    Flow("prod/wordpress", "infra/mysql", "admin", "TCP", False),  # no such named port
]


@pytest.fixture(scope="module")
def model():
    """The engine's model of the fixture manifest set (with kube-dns and the packaged add-ons, addons.yaml)."""
    return build_model(load_manifest_set(MANIFEST_SET))


@pytest.fixture()
def plan(model):
    return plan_probes(FLOWS, objs("pods", *PODS), pod_selectors(model))


def test_flows_are_grouped_by_source_pod_with_ips_and_numeric_ports(plan):
    sources = {f"{s.namespace}/{s.pod}": s for s in plan.sources}
    assert set(sources) == {"ingress-system/traefik-6b9c7d8f9-t7rfk", "prod/wordpress-7d9f8b6c5d-x2x9k"}
    wordpress = sources["prod/wordpress-7d9f8b6c5d-x2x9k"].cells
    assert [(c.destination_ip, c.resolved_port, c.method) for c in wordpress] == [
        ("10.244.0.30", 3306, "tcp"),
        ("10.244.0.2", 53, "dns-udp"),
        ("10.244.0.2", 53, "tcp"),
        ("10.244.0.50", 5432, "tcp"),
    ]


def test_unprobeable_flows_say_why(plan, model):
    reasons = {c.label: c.skip_reason for c in plan.unprobed}
    assert "the model gives the pods of prod/logto no label" in reasons["prod/logto -> infra/mysql:3306/TCP"]
    assert "SCTP port 9153 has no responder" in reasons["prod/wordpress -> kube-system/kube-dns:9153/SCTP"]
    assert "declares no TCP port named 'admin'" in reasons["prod/wordpress -> infra/mysql:admin/TCP"]


def test_named_ports_resolve_per_protocol_on_the_destination_pod():
    coredns = objs("pods", "coredns")[0]
    assert resolve_port("dns", "UDP", coredns) == 53
    assert resolve_port("dns", "TCP", coredns) is None
    assert resolve_port("metrics", "TCP", coredns) == 9153


def test_the_script_runs_every_cell_in_one_shell_and_always_reports(plan, tmp_path):
    cells = list(plan.sources[1].cells)
    script = probe_script(cells)
    assert script.count("&\n") == len(cells) and script.rstrip().endswith(f"echo {PROBE_DONE}")
    # Run it for real: there is no agnhost or dig here, so every cell must come back as OTHER, not vanish.
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=30, check=False)
    observed = parse_probe_output(done.stdout, cells)
    assert set(observed) == {c.id for c in cells}
    assert {o.outcome for o in observed.values()} == {Outcome.OTHER}
    assert PROBE_DONE in done.stdout


def test_classify_reads_agnhost_and_dig_results():
    assert classify("tcp", 0, "").outcome is Outcome.CONNECTED
    assert classify("tcp", 1, "TIMEOUT").outcome is Outcome.TIMEOUT
    assert classify("tcp", 1, "REFUSED").outcome is Outcome.REFUSED
    assert classify("tcp", 1, "DNS: lookup x: no such host").outcome is Outcome.DNS
    assert classify("tcp", 1, "OTHER: dial tcp: no route to host").outcome is Outcome.OTHER
    assert classify("dns-udp", 0, "10.96.0.1").outcome is Outcome.CONNECTED
    assert classify("dns-udp", 9, ";; connection timed out; no servers could be reached").outcome is Outcome.TIMEOUT


def test_parse_marks_missing_cells_and_unfinished_scripts(plan):
    cells = list(plan.sources[1].cells)
    output = f"DBC-PROBE {cells[0].id} 0 \nDBC-PROBE {cells[1].id} 9 ;; connection timed out\nnoise line\n"
    observed = parse_probe_output(output, cells)
    assert observed[cells[0].id].outcome is Outcome.CONNECTED
    assert observed[cells[1].id].outcome is Outcome.TIMEOUT
    assert observed[cells[2].id].outcome is Outcome.MISSING and "did not finish" in observed[cells[2].id].detail


CONNECTED, TIMEOUT, REFUSED = (Observation(o) for o in (Outcome.CONNECTED, Outcome.TIMEOUT, Outcome.REFUSED))


def _cell(allowed: bool) -> Cell:
    return Cell(1, "a/x", "b/y", 80, "TCP", allowed, "a/x-1", "10.0.0.1", 80, "tcp")


@pytest.mark.parametrize(
    ("allowed", "observation", "signature", "verdict"),
    [
        (True, CONNECTED, Outcome.TIMEOUT, Verdict.MATCH),
        (False, CONNECTED, Outcome.TIMEOUT, Verdict.TOO_OPEN),
        (True, TIMEOUT, Outcome.TIMEOUT, Verdict.TOO_CLOSED),
        (False, TIMEOUT, Outcome.TIMEOUT, Verdict.MATCH),
        # A dropping CNI never refuses: a refusal came from the pod, so the policy let it through.
        (True, REFUSED, Outcome.TIMEOUT, Verdict.MATCH),
        (False, REFUSED, Outcome.TIMEOUT, Verdict.TOO_OPEN),
        # A rejecting CNI makes a refusal ambiguous (policy or no listener).
        (False, REFUSED, Outcome.REFUSED, Verdict.INCONCLUSIVE),
        (True, TIMEOUT, Outcome.REFUSED, Verdict.INCONCLUSIVE),
        (True, Observation(Outcome.MISSING), Outcome.TIMEOUT, Verdict.INCONCLUSIVE),
        (True, Observation(Outcome.DNS), Outcome.TIMEOUT, Verdict.INCONCLUSIVE),
    ],
)
def test_judge_truth_table(allowed, observation, signature, verdict):
    assert judge(_cell(allowed), observation, signature) is verdict


def test_live_pods_are_found_by_the_labels_the_engine_gives_each_workload(model):
    selectors = pod_selectors(model)
    pods = objs("pods", *PODS, "cnpg_replica_3", "image_pull_backoff")
    # kind and k3s run kube-dns as Deployment coredns: its owner chain says "coredns", its label says kube-dns.
    assert [
        p["metadata"]["name"] for p in pods_of("kube-system/kube-dns", selectors["kube-system/kube-dns"], pods)
    ] == ["coredns-7db6d8ff4d-4m2hq"]
    # A CNPG Cluster's pods share cluster and podRole labels, whatever their role after a failover; the
    # operator's initdb Job pod carries the cluster label too but is no instance.
    assert selectors["infra/postgres-cluster"] == {"cnpg.io/cluster": "postgres-cluster", "cnpg.io/podRole": "instance"}
    instances = pods_of("infra/postgres-cluster", selectors["infra/postgres-cluster"], pods)
    assert sorted(p["metadata"]["name"] for p in instances) == [f"postgres-cluster-{i}" for i in (1, 2, 3)]
    traefik = pods_of("ingress-system/traefik", selectors["ingress-system/traefik"], pods)
    assert [p["metadata"]["name"] for p in traefik] == ["traefik-6b9c7d8f9-t7rfk"]
    # The namespace is part of the identity: the same labels in another namespace are another workload.
    assert pods_of("stage/wordpress", {"app": "wordpress"}, pods) == []


def test_common_labels_drop_what_differs_between_a_workloads_pods(model):
    cluster = model.workload("infra/postgres-cluster")
    assert len(cluster.pods) == 3 and len({p.labels.get("cnpg.io/instanceName") for p in cluster.pods}) == 3
    assert "cnpg.io/instanceName" not in common_labels(cluster)
    assert common_labels(model.workload("prod/wordpress")) == {"app": "wordpress"}


def test_expected_flows_are_the_engines_matrix_dns_included(model):
    flows = expected_flows(model)
    dns = {(f.source, f.protocol) for f in flows if f.destination == "kube-system/kube-dns" and f.port == 53}
    assert ("prod/wordpress", "UDP") in dns and ("prod/wordpress", "TCP") in dns
    # The fixture set's default deny in prod has no DNS exception: the engine must say so, not assume it.
    assert not any(f.allowed for f in flows if f.source == "prod/wordpress" and f.destination == "kube-system/kube-dns")
    plan = plan_probes(flows, objs("pods", *PODS), pod_selectors(model))
    assert plan.sources, "the fixture pods must give at least one probeable source"


def test_cells_without_results_are_never_counted_as_matches(plan):
    results = compare(plan.cells, {}, Outcome.TIMEOUT)
    counts = summary(results)
    assert counts["not probed"] == len(plan.unprobed) == 3
    assert counts["inconclusive"] == 5  # probeable cells whose result never came back
    assert counts["match"] == 0
    assert len(matrix_findings(results)) == 5


def test_too_open_cells_are_reprobed_and_findings_name_the_flow():
    cells = [_cell(False), Cell(2, "a/x", "b/z", 81, "TCP", True, "a/x-1", "10.0.0.2", 81, "tcp")]
    results = compare(cells, {1: CONNECTED, 2: CONNECTED}, Outcome.TIMEOUT)
    assert [c.id for c in cells_to_reprobe(results)] == [1]
    findings = matrix_findings(results)
    assert len(findings) == 1 and findings[0].object == "a/x -> b/y:80/TCP"
    assert "too open: expected denied, observed connected" in findings[0].message


def test_canary_must_connect_before_and_be_blocked_after():
    assert canary_verdict(CONNECTED, [CONNECTED, TIMEOUT]).enforcing
    assert canary_verdict(CONNECTED, [TIMEOUT]).blocked_signature is Outcome.TIMEOUT
    assert canary_verdict(CONNECTED, [REFUSED]).blocked_signature is Outcome.REFUSED
    not_enforced = canary_verdict(CONNECTED, [CONNECTED] * 6)
    assert not not_enforced.enforcing and "does not enforce" in not_enforced.reason
    broken = canary_verdict(TIMEOUT, [TIMEOUT])
    assert not broken.enforcing and "not reachable before any policy" in broken.reason
    assert not canary_verdict(CONNECTED, []).enforcing


def test_canary_retries_only_while_connections_still_succeed():
    assert canary_should_retry([CONNECTED], 6)
    assert not canary_should_retry([CONNECTED] * 6, 6)
    assert not canary_should_retry([CONNECTED, TIMEOUT], 6)


def _restricted_violations(container: dict) -> list[str]:
    """The Pod Security 'restricted' container rules (REFERENCE.md), checked independently of the code."""
    sc = container.get("securityContext") or {}
    problems = []
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation")
    if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
        problems.append("capabilities")
    if sc.get("runAsNonRoot") is not True or sc.get("runAsUser") == 0:
        problems.append("runAsNonRoot")
    if (sc.get("seccompProfile") or {}).get("type") not in ("RuntimeDefault", "Localhost"):
        problems.append("seccomp")
    if sc.get("privileged"):
        problems.append("privileged")
    return problems


def test_probe_and_canary_containers_satisfy_the_restricted_profile():
    assert _restricted_violations(probe_container("p", "img", "echo")) == []
    for obj in canary_objects("dbc-canary-x", "img")[1:]:
        assert _restricted_violations(obj["spec"]["containers"][0]) == []
    assert _restricted_violations({"securityContext": {"runAsNonRoot": True}}) != []  # the check itself can fail


def test_the_canary_namespace_and_pods_are_marked_as_the_harness_s_own():
    for obj in canary_objects("dbc-canary-x", "img"):
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "dbc-validate", obj["kind"]


def test_ephemeral_container_state_is_read_from_its_status():
    pod = objs("pods", "with_probe_terminated")[0]
    assert ephemeral_state(pod, "dbc-probe-a1b2c3") == "terminated"
    assert ephemeral_state(pod, "dbc-probe-other") == "missing"
