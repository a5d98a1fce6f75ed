"""The harness's cluster code against the Kubernetes API test double (tests/cluster/double) through the real
kubectl: kubectl wrapper behaviour, schema validation, and the kubeconfig target's live Gate 1 suites per scenario."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from double import scenario as scenarios
from double.fixture import SCENARIOS, VALIDATE_VERSION, DoubleLab, double_for
from double.label import NOTE
from double.model import ApiError
from double.store import Double
from helpers import ROOT

from dbc_validate.cluster.kubectl import ClusterError, Kubectl, json_documents
from dbc_validate.tools.binaries import find_program


@pytest.fixture
def empty_double(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DoubleLab]:
    with double_for(None, tmp_path / "double") as lab:
        for key, value in lab.env({}).items():
            monkeypatch.setenv(key, value)  # kubectl run by Kubectl inherits HOME and its discovery cache
        monkeypatch.delenv("KUBECONFIG", raising=False)
        yield lab


def kubectl_for(lab: DoubleLab) -> Kubectl:
    return Kubectl(find_program("kubectl"), lab.kubeconfig)


def review(verb: str, resource: str) -> dict:
    attributes = {"namespace": "prod", "verb": verb, "resource": resource}
    return {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {"user": "system:serviceaccount:prod:web", "resourceAttributes": attributes},
    }


def test_json_documents_reads_back_to_back_objects():
    assert json_documents('{"a": 1}\n{"b": [2]}\n') == [{"a": 1}, {"b": [2]}]
    assert json_documents("  ") == []


def test_create_answers_every_review_of_a_batch(empty_double: DoubleLab):
    # kubectl prints one object per created document: a batch of several used to fail with "Extra data".
    empty_double.double.sar_answer = lambda spec: {"allowed": spec["resourceAttributes"]["verb"] == "get"}
    answers = kubectl_for(empty_double).create([review("get", "pods"), review("list", "secrets")])
    assert [a["kind"] for a in answers] == ["SubjectAccessReview", "SubjectAccessReview"]
    assert [a["status"]["allowed"] for a in answers] == [True, False]
    assert answers[1]["spec"]["resourceAttributes"]["resource"] == "secrets"


def test_a_wrong_field_name_is_refused_by_the_schema(empty_double: DoubleLab):
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"containers": [{"name": "web", "image": "web:1", "securityContext": {"runAsNonroot": True}}]},
    }
    with pytest.raises(ClusterError, match="runAsNonroot"):
        kubectl_for(empty_double).apply([pod])
    pod["spec"]["containers"][0]["securityContext"] = {"runAsNonRoot": True}
    kubectl_for(empty_double).apply([pod])
    assert kubectl_for(empty_double).get("pod", "web", "default")["spec"]["containers"][0]["image"] == "web:1"


MANIFESTS = "manifests/overlays/k3d"  # the set the scenarios deploy (double/scenario.py `manifests: k3d`)


def run_live_suites(scenario: str, tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    """Every live Gate 1 test through the kubeconfig target against a double running `scenario`."""
    with double_for(scenario, tmp_path / "double") as lab:
        report = tmp_path / "report" / "gate1.html"
        argv = [sys.executable, "-m", "pytest", "suites/gate1", "-m", "live", "-p", "no:cacheprovider"]
        argv += ["-p", "double.label", "--target", "kubeconfig", "--kubeconfig", str(lab.kubeconfig)]
        argv += ["--manifests", MANIFESTS, "--gate1-report", str(report), "-rA", "-q", *extra]
        env = lab.env(dict(os.environ))
        env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    data = json.loads(report.with_suffix(".json").read_text(encoding="utf-8"))
    return done, data


def outcomes(data: dict) -> dict[str, tuple[str, str]]:
    """Test function name -> (outcome, message) for the tests the run executed."""
    tests = data["measurements"]["tests"].items()
    return {
        nodeid.split("::")[-1]: (t["outcome"], t["message"] or "") for nodeid, t in tests if t["outcome"] != "not_run"
    }


LIVE = {
    # every live Gate 1 test -> its outcome on the healthy scenario
    "test_every_node_is_ready_without_pressure": "passed",
    "test_control_plane_keeps_etcd_quorum": "passed",
    "test_every_claim_is_bound_through_the_expected_storage_class": "passed",
    "test_every_running_container_has_a_non_zero_uid": "passed",
    "test_cni_enforces_a_deny_all_policy": "passed",
    "test_live_connectivity_matches_the_expected_matrix": "passed",
    "test_service_accounts_are_refused_what_the_manifests_do_not_grant": "passed",
    "test_every_sealed_secret_is_unsealed_into_its_secret": "passed",
    "test_cloudnativepg_cluster_is_healthy_with_enough_instances": "passed",
    "test_every_application_pod_has_logs_and_metrics": "passed",
    "test_prometheus_scrapes_every_target": "passed",
    "test_no_critical_alert_is_firing": "passed",
    "test_loki_returns_application_logs": "passed",
    "test_no_pod_crashloops_or_restarts_after_deploy": "passed",
    "test_cpu_and_memory_stay_under_the_threshold": "passed",
    # The admin password is known only when the harness installed the stack (kind/k3d): a skip on kubeconfig.
    "test_grafana_serves_its_dashboards": "skipped",
}
CANARY = ("test_cni_enforces_a_deny_all_policy", "test_live_connectivity_matches_the_expected_matrix")
BROKEN = {
    # scenario: (the tests it must fail, and no other; what the first one's message must say)
    "node_not_ready": (
        ("test_every_node_is_ready_without_pressure",),
        "Node/server-2: Ready=False (NodeStatusUnknown)",
    ),
    "etcd_quorum_lost": (("test_control_plane_keeps_etcd_quorum",), "1/3"),
    "pvc_unbound": (("test_every_claim_is_bound_through_the_expected_storage_class",), "stage/wordpress-files"),
    "sealed_secret_not_synced": (
        ("test_every_sealed_secret_is_unsealed_into_its_secret",),
        "SealedSecret/prod/wordpress: Synced=False: no key could decrypt secret",
    ),
    "service_account_lists_secrets": (
        ("test_service_accounts_are_refused_what_the_manifests_do_not_grant",),
        "ServiceAccount/prod/wordpress: may list secrets in prod but the manifest set does not grant it",
    ),
    # The matrix test needs an enforcing CNI, so it fails with the canary and says why.
    "cni_not_enforcing": (CANARY, "deny-all"),
    "root_container": (("test_every_running_container_has_a_non_zero_uid",), "Pod/stage/wordpress-blue-"),
    "cnpg_two_ready": (("test_cloudnativepg_cluster_is_healthy_with_enough_instances",), "2/3 instances ready"),
    "crashloop": (("test_no_pod_crashloops_or_restarts_after_deploy",), "CrashLoopBackOff after 7 restarts"),
    "cpu_over_threshold": (("test_cpu_and_memory_stay_under_the_threshold",), "Node/server-1"),
    "prometheus_target_down": (("test_prometheus_scrapes_every_target",), "context deadline exceeded"),
    "critical_alert": (("test_no_critical_alert_is_firing",), "alert KubeAPIErrorBudgetBurn"),
    "no_loki_logs": (("test_loki_returns_application_logs",), "no log line from namespace"),
}


@pytest.mark.slow
def test_healthy_scenario_passes_every_live_gate1_test(tmp_path: Path):
    done, data = run_live_suites("healthy", tmp_path, "--allow-destructive")
    ran = {name: outcome for name, (outcome, _) in outcomes(data).items()}
    live = {name: ran.get(name) for name in LIVE}
    assert live == LIVE, done.stdout[-3000:]
    assert done.returncode == 0
    assert NOTE in data["measurements"]["notes"]
    assert data["target"]["versions"]["kubernetes"].endswith("-test-double")


@pytest.mark.slow
@pytest.mark.parametrize("scenario", sorted(BROKEN))
def test_a_broken_scenario_fails_its_own_test_and_no_other(scenario: str, tmp_path: Path):
    failing, message = BROKEN[scenario]
    done, data = run_live_suites(scenario, tmp_path, "--allow-destructive")
    ran = outcomes(data)
    assert {name for name in LIVE if ran[name][0] != LIVE[name]} == set(failing), done.stdout[-3000:]
    assert all(ran[name][0] == "failed" for name in failing)
    assert message in ran[failing[0]][1], ran[failing[0]][1]
    assert done.returncode == 1
    assert NOTE in data["measurements"]["notes"]


def test_a_scenario_object_with_a_wrong_field_name_is_refused(tmp_path: Path):
    bad = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p", "namespace": "default"}}
    bad["spec"] = {"containers": [{"name": "c", "image": "i", "securityContext": {"runAsNonroot": True}}]}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"objects": [bad]}))
    with pytest.raises(ApiError, match="runAsNonroot"):
        scenarios.install(scenarios.load(path), Double(validate_version=VALIDATE_VERSION))


def test_an_extending_scenario_replaces_objects_by_identity_and_answers_exec_first():
    scenario = scenarios.load(SCENARIOS / "etcd_quorum_lost.yaml")
    etcd = {o["metadata"]["name"]: o for o in scenario.objects if o["kind"] == "Pod"}
    assert etcd["etcd-server-1"]["status"]["conditions"][0]["status"] == "False"
    assert scenario.readyz == {"etcd": False, "etcd-readiness": True}
    root = scenarios.load(SCENARIOS / "root_container.yaml")
    assert root.exec_handler("stage", "wordpress-blue-abc", "wordpress", ["id", "-u"])[1] == "0\n"
    assert root.exec_handler("prod", "wordpress-blue-abc", "wordpress", ["id", "-u"])[1] == "1000\n"
    assert root.exec_handler("prod", "wordpress-blue-abc", "wordpress", ["whoami"])[0] == 127
