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

LIVE_SELECTION = "infrastructure or non_root_live"


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


def run_live_suites(scenario: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], dict]:
    """The kubeconfig target's infrastructure and non-root live suites against a double running `scenario`."""
    with double_for(scenario, tmp_path / "double") as lab:
        report = tmp_path / "report" / "gate1.html"
        argv = [sys.executable, "-m", "pytest", "suites/gate1", "-k", LIVE_SELECTION, "-p", "no:cacheprovider"]
        argv += ["-p", "double.label", "--target", "kubeconfig", "--kubeconfig", str(lab.kubeconfig)]
        argv += ["--gate1-report", str(report), "-rA", "-q"]
        env = lab.env(dict(os.environ))
        env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    data = json.loads(report.with_suffix(".json").read_text(encoding="utf-8"))
    return done, data


def outcomes(data: dict) -> dict[str, tuple[str, str]]:
    """Test function name -> (outcome, message) for the tests the run executed."""
    tests = data["measurements"]["tests"].items()
    return {
        nodeid.split("::")[-1]: (t["outcome"], t["message"] or "") for nodeid, t in tests if t["outcome"] != "not_run"
    }


HEALTHY_LIVE = (
    "test_every_node_is_ready_without_pressure",
    "test_control_plane_keeps_etcd_quorum",
    "test_every_claim_is_bound_through_the_expected_storage_class",
    "test_every_running_container_has_a_non_zero_uid",
)
BROKEN = {
    # scenario: (the one test it must fail, what its message must say)
    "node_not_ready": ("test_every_node_is_ready_without_pressure", "Node/server-2: Ready=False (NodeStatusUnknown)"),
    "etcd_quorum_lost": ("test_control_plane_keeps_etcd_quorum", "1/3"),
    "root_container": ("test_every_running_container_has_a_non_zero_uid", "Pod/stage/web-0"),
}


@pytest.mark.slow
def test_healthy_scenario_passes_the_infrastructure_and_non_root_live_tests(tmp_path: Path):
    done, data = run_live_suites("healthy", tmp_path)
    ran = {name: outcome for name, (outcome, _) in outcomes(data).items()}
    assert ran == dict.fromkeys(HEALTHY_LIVE, "passed"), done.stdout[-3000:]
    assert done.returncode == 0
    assert NOTE in data["measurements"]["notes"]
    assert data["target"]["versions"]["kubernetes"].endswith("-test-double")


@pytest.mark.slow
@pytest.mark.parametrize("scenario", sorted(BROKEN))
def test_a_broken_scenario_fails_its_own_test_and_no_other(scenario: str, tmp_path: Path):
    failing, message = BROKEN[scenario]
    done, data = run_live_suites(scenario, tmp_path)
    ran = outcomes(data)
    assert {name for name, (outcome, _) in ran.items() if outcome != "passed"} == {failing}, done.stdout[-3000:]
    outcome, text = ran[failing]
    assert outcome == "failed"
    assert message in text, text
    assert set(ran) == set(HEALTHY_LIVE)
    assert NOTE in data["measurements"]["notes"]


def test_a_scenario_object_with_a_wrong_field_name_is_refused(tmp_path: Path):
    bad = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p", "namespace": "default"}}
    bad["spec"] = {"containers": [{"name": "c", "image": "i", "securityContext": {"runAsNonroot": True}}]}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"objects": [bad]}))
    with pytest.raises(ApiError, match="runAsNonroot"):
        scenarios.install(scenarios.load(path), Double(validate_version=VALIDATE_VERSION))


def test_an_extending_scenario_replaces_objects_by_identity_and_answers_exec_first():
    scenario = scenarios.load(SCENARIOS / "root_container.yaml")
    pods = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in scenario.objects if o["kind"] == "Pod"}
    assert pods["stage", "web-0"]["spec"]["containers"][0]["image"] == "registry.example/web-root:1.0"
    assert pods["prod", "web-0"]["spec"]["containers"][0]["image"] == "registry.example/web:1.0"
    assert scenario.exec_handler("stage", "web-0", "web", ["id", "-u"])[1] == "0\n"
    assert scenario.exec_handler("prod", "web-0", "web", ["id", "-u"])[1] == "1000\n"
    assert scenario.exec_handler("prod", "web-0", "web", ["whoami"])[0] == 127
