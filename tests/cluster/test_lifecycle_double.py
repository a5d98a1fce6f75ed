"""The kind/k3d lifecycle and the kubeconfig target's refusals, end to end against the Kubernetes API test double:
kind, k3d, docker and helm shims on PATH (tests/cluster/shims) create and delete a double instead of a cluster, so
`pytest suites/gate1 --target kind` runs create -> deploy -> waits -> live tests -> diagnostics -> delete."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from double.fixture import double_for
from double.label import NOTE
from double.shim import cluster_shape, stop_all
from helpers import ROOT

from dbc_validate.cluster.cluster_config import with_servers

HERE = Path(__file__).parent
SHIMS = HERE / "shims"
OBSERVABILITY = (
    "test_prometheus_scrapes_every_target",
    "test_no_critical_alert_is_firing",
    "test_grafana_serves_its_dashboards",
    "test_loki_returns_application_logs",
)


@pytest.fixture(autouse=True)
def no_double_left(tmp_path: Path):
    """A failed test may leave a kept or half-made cluster: its double must not outlive the test (it holds :8080)."""
    yield
    stop_all(tmp_path / "state")


def shim_env(tmp_path: Path, scenario: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["PATH"] = os.pathsep.join([str(SHIMS), str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(DBC_DOUBLE_STATE=str(tmp_path / "state"), DBC_DOUBLE_PYTHON=sys.executable, HOME=str(tmp_path / "home"))
    env.update(KUBECACHEDIR=str(tmp_path / "home" / "kube-cache"), PYTHONPATH=str(HERE))
    if scenario:
        env["DBC_DOUBLE_SCENARIO"] = scenario
    return env


def run_gate1(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    report = tmp_path / "report" / "gate1.html"
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "suites/gate1",
        "-m",
        "live",
        "-p",
        "no:cacheprovider",
        "-p",
        "double.label",
    ]
    argv += ["-p", "double.addons", "--gate1-report", str(report), "-rA", "-q", *args]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    json_report = report.with_suffix(".json")
    return done, json.loads(json_report.read_text(encoding="utf-8")) if json_report.exists() else {}


def outcomes(data: dict) -> dict[str, tuple[str, str]]:
    tests = data["measurements"]["tests"].items()
    return {n.split("::")[-1]: (t["outcome"], t["message"] or "") for n, t in tests if t["outcome"] != "not_run"}


def criterion(data: dict, criterion_id: str) -> dict:
    return next(c for c in data["criteria"] if c["id"] == criterion_id)


def calls(tmp_path: Path) -> list[list[str]]:
    log = tmp_path / "state" / "calls.log"
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def clusters_left(tmp_path: Path, tool: str) -> list[str]:
    return sorted(p.name for p in (tmp_path / "state").glob(f"{tool}-*") if (p / "ready").exists())


def packaged_config(tool: str) -> dict:
    return yaml.safe_load((ROOT / "dbc_validate" / "data" / f"{tool}-config.yaml").read_text(encoding="utf-8"))


def test_the_shims_make_the_nodes_the_cluster_config_asks_for():
    kind3 = cluster_shape("kind", "gate", with_servers("kind", packaged_config("kind"), 3), [])
    assert [n["name"] for n in kind3["nodes"]] == ["gate-control-plane", "gate-control-plane2", "gate-control-plane3"]
    assert [p["metadata"]["name"] for p in kind3["objects"]] == [f"etcd-{n['name']}" for n in kind3["nodes"]]
    kind1 = cluster_shape("kind", "gate", with_servers("kind", packaged_config("kind"), 1), [])
    assert len(kind1["nodes"]) == 1 and len(kind1["objects"]) == 1
    k3d3 = cluster_shape("k3d", "gate", with_servers("k3d", packaged_config("k3d"), 3), [])["nodes"]
    assert [n["name"] for n in k3d3] == [f"k3d-gate-server-{i}" for i in range(3)]
    assert all("etcd" in n["roles"] for n in k3d3)
    k3d1 = cluster_shape("k3d", "gate", with_servers("k3d", packaged_config("k3d"), 3), ["--servers", "1"])["nodes"]
    assert len(k3d1) == 1 and "etcd" not in k3d1[0]["roles"]  # k3d's flag wins; one server runs no etcd
    assert len(cluster_shape("k3d", "gate", {}, ["--agents=2"])["nodes"]) == 3  # k3d's defaults: 1 server


@pytest.mark.slow
def test_kind_runs_create_deploy_live_tests_and_delete_with_observability(tmp_path: Path):
    done, data = run_gate1(tmp_path, shim_env(tmp_path), "--target", "kind", "--with-observability")
    ran = outcomes(data)
    assert {n for n, (o, _) in ran.items() if o == "failed" or o == "error"} == set(), done.stdout[-3000:]
    assert all(ran[name][0] == "passed" for name in OBSERVABILITY)
    assert ran["test_every_sealed_secret_is_unsealed_into_its_secret"][0] == "passed"  # sealed, then decrypted
    assert ran["test_control_plane_keeps_etcd_quorum"][0] == "passed"  # kind: 3 control-plane nodes by default
    assert criterion(data, "infrastructure.control_plane_quorum")["measured"]["etcd_members"] == 3
    tools = [c[:3] for c in calls(tmp_path)]
    order = [
        tools.index(c)
        for c in (["kind", "create", "cluster"], ["docker", "build", "-t"], ["kind", "delete", "cluster"])
    ]
    assert order == sorted(order), tools
    assert ["helm", "upgrade", "--install"] in tools
    assert clusters_left(tmp_path, "kind") == []
    assert done.returncode == 0
    assert NOTE in data["measurements"]["notes"]


@pytest.mark.slow
def test_k3d_keeps_its_cluster_with_keep_cluster(tmp_path: Path):
    env = shim_env(tmp_path)
    done, data = run_gate1(tmp_path, env, "--target", "k3d", "--keep-cluster", "-k", "infrastructure")
    ran = outcomes(data)
    assert ran["test_every_claim_is_bound_through_the_expected_storage_class"][0] == "passed", done.stdout[-3000:]
    assert ran["test_control_plane_keeps_etcd_quorum"][0] == "passed"  # 3 k3s servers on embedded etcd by default
    assert criterion(data, "infrastructure.control_plane_quorum")["status"] == "PASS"
    assert criterion(data, "infrastructure.nodes_ready")["measured"]["control_plane_nodes"] == 3
    assert clusters_left(tmp_path, "k3d") == ["k3d-dbc-gate1"]
    assert not [c for c in calls(tmp_path) if c[:3] == ["k3d", "cluster", "delete"]]
    again, _ = run_gate1(tmp_path, env, "--target", "k3d", "-k", "every_node_is_ready")  # reuses it, then deletes it
    assert again.returncode == 0, again.stdout[-3000:]
    assert sum(1 for c in calls(tmp_path) if c[:3] == ["k3d", "cluster", "create"]) == 1
    assert clusters_left(tmp_path, "k3d") == []


@pytest.mark.slow
@pytest.mark.parametrize("tool", ["kind", "k3d"])
def test_one_server_makes_the_quorum_criterion_not_run_naming_servers(tmp_path: Path, tool: str):
    selected = "every_node_is_ready or control_plane_keeps_etcd_quorum"
    done, data = run_gate1(tmp_path, shim_env(tmp_path), "--target", tool, "--servers", "1", "-k", selected)
    ran = outcomes(data)
    assert ran["test_every_node_is_ready_without_pressure"][0] == "passed", done.stdout[-3000:]
    assert criterion(data, "infrastructure.nodes_ready")["measured"]["nodes"] == 1  # the config the harness wrote
    outcome, message = ran["test_control_plane_keeps_etcd_quorum"]
    assert outcome == "skipped" and "single server" in message and "--servers 1" in message
    quorum = criterion(data, "infrastructure.control_plane_quorum")
    assert quorum["status"] == "NOT_RUN" and "--servers 1" in quorum["reason"]
    assert done.returncode == 0


@pytest.mark.slow
def test_a_deploy_that_never_becomes_ready_errors_every_live_test_and_leaves_diagnostics(tmp_path: Path):
    done, data = run_gate1(tmp_path, shim_env(tmp_path, "kind_deploy_never_ready"), "--target", "kind")
    ran = outcomes(data)
    assert ran and {o for o, _ in ran.values()} == {"error"}, done.stdout[-3000:]
    message = next(iter(ran.values()))[1]
    assert "deploy onto kind cluster 'dbc-gate1' failed" in message
    assert "CreateContainerConfigError" in message
    bundles = list((tmp_path / "report").glob("cluster-diagnostics-*"))
    assert len(bundles) == 1 and str(bundles[0]) in message
    assert [p.name for p in bundles[0].glob("describe-prod-wordpress-blue-*.txt")]
    assert clusters_left(tmp_path, "kind") == []
    assert done.returncode == 1


@pytest.mark.slow
def test_grafana_without_dashboards_fails_only_its_test(tmp_path: Path):
    env = shim_env(tmp_path, "kind_grafana_empty")
    done, data = run_gate1(tmp_path, env, "--target", "kind", "--with-observability", "-k", "observability")
    ran = outcomes(data)
    assert {n for n, (o, _) in ran.items() if o != "passed"} == {"test_grafana_serves_its_dashboards"}, done.stdout
    assert "/api/search lists no dashboard" in ran["test_grafana_serves_its_dashboards"][1]


def test_the_kubeconfig_target_refuses_a_prod_named_context(tmp_path: Path):
    with double_for(None, tmp_path / "double") as lab:
        config = json.loads(lab.kubeconfig.read_text(encoding="utf-8"))
        config["contexts"][0]["name"] = config["current-context"] = "dirtbike-prod"
        prod = tmp_path / "prod-kubeconfig"
        prod.write_text(json.dumps(config), encoding="utf-8")
        argv = [sys.executable, "-m", "pytest", "suites/gate1", "-m", "live", "-p", "no:cacheprovider", "-q"]
        argv += ["--target", "kubeconfig", "--kubeconfig", str(prod), "--gate1-report", str(tmp_path / "r/gate1.html")]
        done = subprocess.run(argv, cwd=ROOT, env=lab.env(dict(os.environ)), capture_output=True, text=True)
        assert not [entry for entry in lab.double.log if entry[1] != "/version"]  # nothing reached the cluster
    assert done.returncode == 4
    assert "looks like production" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr + done.stdout
    assert config["users"][0]["user"]["token"] not in done.stderr + done.stdout


def test_destructive_live_tests_are_skipped_on_kubeconfig_without_allow_destructive(tmp_path: Path):
    with double_for("healthy", tmp_path / "double") as lab:
        report = tmp_path / "report" / "gate1.html"
        argv = [sys.executable, "-m", "pytest", "suites/gate1", "-m", "live and destructive", "-p", "no:cacheprovider"]
        argv += ["-p", "double.label", "--target", "kubeconfig", "--kubeconfig", str(lab.kubeconfig), "-q", "-rA"]
        argv += ["--manifests", "manifests/overlays/k3d", "--gate1-report", str(report)]
        env = {**lab.env(dict(os.environ)), "PYTHONPATH": str(HERE)}
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        writes = [entry for entry in lab.double.log if entry[0] in ("POST", "PATCH", "PUT", "DELETE")]
    data = json.loads(report.with_suffix(".json").read_text(encoding="utf-8"))
    ran = outcomes(data)
    # The live destructive tests: the canary and the matrix (the persistent-storage one moved to test_app_stack.py).
    destructive = {"test_cni_enforces_a_deny_all_policy", "test_live_connectivity_matches_the_expected_matrix"}
    assert set(ran) == destructive and {o for o, _ in ran.values()} == {"skipped"}, done.stdout[-3000:]
    assert all("--allow-destructive" in m for _, m in ran.values())
    assert writes == []  # read-only: no canary namespace, no probe container, no deleted pod
