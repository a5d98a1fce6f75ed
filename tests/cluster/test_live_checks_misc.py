"""Non-root, headroom, observability, application and diagnostics decisions on recorded-shape objects."""

from __future__ import annotations

import copy

from cluster_fixtures import (
    MANIFEST_SET,
    obj,
    objs,
)

from dbc_validate.analysis.live.apps import (
    HttpAnswer,
    app_hosts,
    route_findings,
    visibility_findings,
)
from dbc_validate.analysis.live.diagnostics import event_lines, pods_to_diagnose, warning_summary
from dbc_validate.analysis.live.headroom import (
    container_usage,
    containers_without_limits,
    headroom_findings,
    node_usage,
    peaks,
)
from dbc_validate.analysis.live.non_root import UidObservation, non_root_findings, parse_uid, running_containers
from dbc_validate.analysis.live.observability import (
    critical_alerts,
    grafana_findings,
    loki_findings,
    prometheus_target_findings,
)
from dbc_validate.analysis.pod_security import evaluate_pod
from dbc_validate.manifests.model import load_manifest_set
from dbc_validate.manifests.traefik_routes import http_routes


def _unobserved(containers, why="id -u: executable file not found"):
    return {c.subject: UidObservation(None, why) for c in containers}


def test_without_an_observed_uid_the_live_spec_is_judged_by_the_pod_security_evaluator():
    containers = running_containers(objs("pods", "wordpress_ready", "mysql_ready", "root_no_context"))
    findings = non_root_findings(containers, _unobserved(containers))
    # wordpress: runAsNonRoot on the pod; mysql: a non-zero runAsUser on the container proves it by itself
    assert [(f.rule, f.object, f.container) for f in findings] == [
        ("pod-security.run-as-non-root", "Pod/prod/legacy-0", "legacy")
    ]
    assert "executable file not found" in findings[0].message and "runAsNonRoot is not true" in findings[0].message
    legacy = next(c for c in containers if c.pod == "legacy-0")
    assert {f.rule for f in findings} <= {v.rule for v in evaluate_pod(legacy.pod_spec) if v.container == "legacy"}


def test_a_root_container_on_a_live_pod_is_caught_from_its_spec():
    pod = copy.deepcopy(obj("pods", "wordpress_ready"))
    for container in pod["spec"]["containers"]:
        container.setdefault("securityContext", {})["runAsUser"] = 0
    containers = running_containers([pod])
    findings = non_root_findings(containers, _unobserved(containers))
    assert findings and {f.rule for f in findings} == {"pod-security.run-as-user"}
    assert "runAsUser is 0" in findings[0].message


def test_uid_is_read_from_id_or_proc_status():
    assert parse_uid("33\n") == 33
    assert parse_uid("Name:\tsh\nUid:\t999\t999\t999\t999\nGid:\t999\n") == 999
    assert parse_uid("sh: id: not found") is None


def test_observed_root_fails_even_with_a_non_root_declaration():
    containers = running_containers([obj("pods", "wordpress_ready")])
    findings = non_root_findings(containers, {containers[0].subject: UidObservation(0)})
    assert "runs as uid 0" in findings[0].message and findings[0].rule == "pod-security.run-as-user"


def test_without_an_observed_uid_only_the_declaration_can_prove_non_root():
    containers = running_containers(objs("pods", "wordpress_ready", "root_no_context"))
    findings = non_root_findings(containers, _unobserved(containers))
    assert [str(f).split(":")[0] for f in findings] == ["Pod/prod/legacy-0 [legacy]"]
    assert (
        non_root_findings(
            running_containers([obj("pods", "root_no_context")]),
            {"Pod/prod/legacy-0 (container legacy)": UidObservation(1000)},
        )
        == []
    )


def test_node_and_container_usage_against_allocatable_and_limits():
    nodes = node_usage(obj("api_answers", "node_metrics")["items"], [obj("nodes", "ready_control_plane")])
    assert nodes[0].cpu_percent == __import__("pytest").approx(30.6, abs=0.1)
    assert nodes[0].memory_percent == __import__("pytest").approx(40.0, abs=0.1)
    containers = container_usage(
        obj("api_answers", "pod_metrics")["items"], objs("pods", "wordpress_ready", "mysql_ready")
    )
    by_subject = {u.subject: u for u in containers}
    wordpress = by_subject["Pod/prod/wordpress-7d9f8b6c5d-x2x9k (container wordpress)"]
    assert round(wordpress.cpu_percent) == 84 and round(wordpress.memory_percent) == 39
    assert peaks(nodes) == (nodes[0].cpu_percent, nodes[0].memory_percent)


def test_headroom_threshold_flags_containers_near_their_limits():
    containers = container_usage(
        obj("api_answers", "pod_metrics")["items"], objs("pods", "wordpress_ready", "mysql_ready")
    )
    findings = headroom_findings(containers, 70)
    assert {f.message.split(" at ")[0] for f in findings} == {"CPU", "memory"}
    assert len(findings) == 2  # wordpress CPU 84 %, mysql memory 88 %
    assert headroom_findings(containers, 95) == []
    assert containers_without_limits([obj("pods", "crashloop")]) == ["Pod/prod/logto-5c9d7-abcde (container logto)"]


def test_prometheus_targets_and_alerts():
    assert prometheus_target_findings(obj("api_answers", "prometheus_targets_up")) == []
    down = prometheus_target_findings(obj("api_answers", "prometheus_targets_one_down"))
    assert len(down) == 1 and "kube-etcd" in down[0].object and "connection refused" in down[0].message
    assert prometheus_target_findings({"status": "error"})[0].message.startswith("/api/v1/targets answered")
    assert critical_alerts(obj("api_answers", "alerts_watchdog_only")) == []
    firing = critical_alerts(obj("api_answers", "alerts_critical_firing"))
    assert [f.object for f in firing] == ["alert KubePodCrashLooping"]


def test_grafana_and_loki_answers():
    assert grafana_findings(obj("api_answers", "grafana_health_ok"), obj("api_answers", "grafana_search")) == []
    assert grafana_findings({"database": "failing"}, [])[1].message == "/api/search lists no dashboard"
    assert loki_findings(obj("api_answers", "loki_query_with_lines"), "prod") == []
    assert "no log line" in loki_findings(obj("api_answers", "loki_query_empty"), "prod")[0].message


def test_hosts_come_from_the_routes_to_wordpress():
    assert app_hosts(http_routes(load_manifest_set(MANIFEST_SET))) == ["www.dirtbikechina.com"]


def test_route_answers_are_judged_like_a_user_would():
    assert route_findings("www", HttpAnswer(302, "", "/wp-admin/install.php")) == []
    assert "no route" in route_findings("www", HttpAnswer(404, "404 page not found\n"))[0].message
    assert "no healthy backend" in route_findings("www", HttpAnswer(502, "Bad Gateway"))[0].message
    db_down = HttpAnswer(500, "<h1>Error establishing a database connection</h1>")
    assert "cannot reach its database" in route_findings("www", db_down)[0].message


def test_visibility_needs_logs_and_metrics_for_each_ready_pod():
    pods = objs("pods", "wordpress_ready", "mysql_ready", "crashloop")
    metrics = obj("api_answers", "pod_metrics")["items"]
    assert visibility_findings(pods, {"prod/wordpress-7d9f8b6c5d-x2x9k": 3, "infra/mysql-0": 10}, metrics) == []
    findings = visibility_findings(pods, {"prod/wordpress-7d9f8b6c5d-x2x9k": 3}, metrics[:1])
    assert {f.message for f in findings} == {
        "no log line from any container",
        "no sample in the metrics API (metrics.k8s.io)",
    }


def test_diagnostics_pick_troubled_pods_first_and_order_events():
    pods = objs("pods", "wordpress_ready", "crashloop", "config_error", "completed_job_pod")
    assert [p["metadata"]["name"] for p in pods_to_diagnose(pods)] == [
        "logto-5c9d7-abcde",
        "wordpress-stage-6f7b-qq1ab",
    ]
    events = obj("api_answers", "events")["items"]
    lines = event_lines(events)
    assert lines[0].startswith("2026-07-01T10:02:11Z Normal Started Pod/prod/wordpress")
    assert "(x12)" in lines[1]
    assert warning_summary(events) == [lines[1]]
