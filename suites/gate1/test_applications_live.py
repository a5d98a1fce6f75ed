"""Gate 1 application criteria, live: WordPress through Traefik with its Host header, its database
reachable, data on a PVC surviving a pod restart, logs and metrics visible for every application pod."""

from __future__ import annotations

import time
import uuid

import pytest

from dbc_validate.analysis.findings import brief_report
from dbc_validate.analysis.live.apps import (
    app_hosts,
    database_findings,
    persistence_target,
    replacement_pod,
    route_findings,
    visibility_findings,
)
from dbc_validate.manifests.traefik_routes import http_routes

pytestmark = pytest.mark.live


def _hosts(cluster):
    hosts = app_hosts(http_routes(cluster.manifest_set))
    if not hosts:
        pytest.fail("the manifest set declares no Traefik route with a Host matcher")
    return hosts


@pytest.mark.gate1("applications.wordpress_accessible")
def test_wordpress_answers_through_traefik_for_its_hosts(cluster, gate1_evidence):
    findings = []
    for host in _hosts(cluster):
        answer = cluster.http_get(host)
        gate1_evidence.measure(f"http_status_{host}", answer.status)
        findings += route_findings(host, answer)
    gate1_evidence.threshold(not findings, f"{len(_hosts(cluster))} host(s) answered through Traefik")
    assert not findings, brief_report(findings)


@pytest.mark.gate1("applications.database_connectivity")
def test_wordpress_reaches_its_database(cluster, gate1_evidence):
    findings = [f for host in _hosts(cluster) for f in database_findings(host, cluster.http_get(host))]
    gate1_evidence.threshold(not findings, "WordPress answered without its database error page")
    assert not findings, brief_report(findings)


@pytest.mark.destructive
@pytest.mark.gate1("applications.persistent_storage")
def test_data_written_to_a_claim_survives_a_pod_restart(cluster, gate1_evidence, gate1_progress):
    pods = cluster.in_namespaces("pods")
    target = persistence_target(pods, cluster.in_namespaces("persistentvolumeclaims"))
    if target is None:
        pytest.fail("no ready, controller-managed pod with a writable mount on a Bound PVC")
    marker = f"{target.mount_path.rstrip('/')}/.dbc-persistence-{uuid.uuid4().hex[:8]}"
    token = uuid.uuid4().hex
    written = cluster.kubectl.exec(
        target.namespace, target.pod, target.container, ["sh", "-c", f"printf %s {token} > {marker}"]
    )
    assert written.returncode == 0, f"cannot write {marker} in {target.pod}: {written.stderr.strip()}"
    old = cluster.kubectl.get("pod", target.pod, target.namespace)
    gate1_progress(f"persistence: deleting pod {target.namespace}/{target.pod} (claim {target.claim})")
    cluster.kubectl.delete("pod", target.pod, target.namespace, wait=True)
    deadline = time.monotonic() + 600
    new = None
    while new is None and time.monotonic() < deadline:
        new = replacement_pod(cluster.items("pods", target.namespace), target, old["metadata"]["uid"])
        if new is None:
            time.sleep(5)
    assert new is not None, f"no ready replacement for {target.pod} within 600 s"
    read = cluster.kubectl.exec(target.namespace, new["metadata"]["name"], target.container, ["cat", marker])
    cluster.kubectl.exec(target.namespace, new["metadata"]["name"], target.container, ["rm", "-f", marker])
    gate1_evidence.measure("claim", f"{target.namespace}/{target.claim}")
    survived = read.returncode == 0 and read.stdout.strip() == token
    gate1_evidence.threshold(survived, f"marker file {'survived' if survived else 'lost'} across a pod restart")
    assert survived, (
        f"{marker} did not survive the restart of {target.pod}: {read.stderr.strip() or read.stdout.strip()}"
    )


@pytest.mark.gate1("applications.logs_metrics_visible")
def test_every_application_pod_has_logs_and_metrics(cluster, gate1_evidence):
    pods = cluster.in_namespaces("pods")
    lines = {
        f"{p['metadata']['namespace']}/{p['metadata']['name']}": len(
            cluster.kubectl.logs(p["metadata"]["namespace"], p["metadata"]["name"], tail=20).splitlines()
        )
        for p in pods
    }
    findings = visibility_findings(pods, lines, cluster.pod_metrics())
    gate1_evidence.measure("pods", len(pods))
    gate1_evidence.threshold(not findings, f"{len(pods)} pods, {len(findings)} without logs or metrics")
    assert not findings, brief_report(findings)
