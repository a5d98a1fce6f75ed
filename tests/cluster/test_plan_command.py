"""`dbc-validate plan` on fixture manifest sets, without Docker or a cluster."""

from __future__ import annotations

import json
import shlex

import pytest
import yaml
from cluster_fixtures import MANIFEST_SET, ROOT, collected_once, obj

from dbc_validate.analysis.live.plan import CollectedCheck, plan_check
from dbc_validate.cli import main, plan_command
from dbc_validate.cli.plan_command import collect_checks


@pytest.fixture(autouse=True)
def _in_checkout(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(plan_command, "collect_checks", collected_once)
    monkeypatch.delenv("KUBECONFIG", raising=False)


def test_kind_plan_prints_every_section_in_order(capsys):
    assert main(["plan", "--target", "kind", "--manifests", str(MANIFEST_SET)]) == 0
    out = capsys.readouterr().out
    sections = ["Cluster", "Add-ons", "Images to build", "Secrets generated", "Objects in apply order", "Checks ("]
    positions = [out.index(s) for s in sections]
    assert positions == sorted(positions)
    assert "kindest/node:v1.36.4@sha256:" in out and "extraPortMappings" in out
    assert "sealed-secrets v0.36.4" in out and "cloudnative-pg 1.29.2" in out and "metrics-server v0.8.1" in out
    assert "kind load docker-image dirtbikechina/postgres:15-cjk --name dbc-gate1" in out
    assert "infra/mysql-credentials: keys password, root-password" in out
    assert "not applied: ServiceMonitor/prod/traefik" in out
    assert "has not yet been run by this project's own CI" in out


def test_k3d_plan_uses_its_own_image_and_loader_and_no_metrics_server(capsys):
    assert main(["plan", "--target", "k3d", "--manifests", str(MANIFEST_SET), "--cluster-name", "ci"]) == 0
    out = capsys.readouterr().out
    assert "rancher/k3s:v1.36.1-k3s1" in out and "--disable=traefik" in out
    assert "k3d image import dirtbikechina/postgres:15-cjk --cluster ci" in out
    assert "metrics-server" not in out.split("Images to build")[0]


def test_observability_adds_the_helm_charts_and_applies_service_monitors(capsys):
    main(["plan", "--target", "kind", "--manifests", str(MANIFEST_SET), "--with-observability", "--format", "json"])
    plan = json.loads(capsys.readouterr().out)
    assert [a["name"] for a in plan["addons"]][-3:] == ["kube-prometheus-stack", "loki", "promtail"]
    assert plan["not_applied"] == []
    assert plan["apply"][-1] == {
        "phase": "monitoring",
        "why": plan["apply"][-1]["why"],
        "objects": ["ServiceMonitor/prod/traefik"],
    }
    observability = [c for c in plan["checks"] if c["criteria"][0].startswith("observability.")]
    assert observability and all(c["runs"] for c in observability)


def test_kubeconfig_plan_applies_nothing_and_reports_the_prod_refusal(capsys, tmp_path):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(yaml.safe_dump(obj("api_answers", "kubeconfig_prod")), encoding="utf-8")
    main(
        [
            "plan",
            "--target",
            "kubeconfig",
            "--kubeconfig",
            str(kubeconfig),
            "--manifests",
            str(MANIFEST_SET),
            "--format",
            "json",
        ]
    )
    plan = json.loads(capsys.readouterr().out)
    assert plan["addons"] == [] and plan["images"] == [] and plan["apply"] == []
    assert any(line.startswith("REFUSED: kubeconfig context 'dirtbike-prod'") for line in plan["cluster"])
    restart = next(c for c in plan["checks"] if "persistent_storage" in c["criteria"][0])
    assert not restart["runs"] and "--allow-destructive" in restart["reason"]
    assert "REDACTED-IN-FIXTURE" not in json.dumps(plan)


def test_a_missing_manifests_path_is_one_line_and_exit_2(capsys):
    assert main(["plan", "--target", "kind", "--manifests", "no/such/dir"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dbc-validate: --manifests 'no/such/dir': does not exist") and err.count("\n") == 1


def test_every_collected_gate1_suite_check_is_planned_and_live_ones_need_the_cluster():
    checks, note = collect_checks(ROOT / "suites" / "gate1")
    assert note == ""
    live = [c for c in checks if "_live.py" in c.nodeid or "test_infrastructure.py" in c.nodeid]
    assert len(live) >= 16
    assert all("cluster" in c.capabilities for c in live)
    destructive = {c.nodeid.split("::")[1] for c in checks if c.destructive}
    assert "test_post_and_media_survive_restarting_database_and_wordpress" in destructive


@pytest.mark.parametrize(
    ("check", "target", "runs", "reason"),
    [
        (CollectedCheck("t", ("security.rbac",), ("cluster",)), "kind", True, ""),
        (CollectedCheck("t", ("security.rbac",), ("postgres",)), "kind", False, "does not offer postgres"),
        (CollectedCheck("t", ("databases.failover",), ("cluster",), True), "kubeconfig", False, "--allow-destructive"),
        (CollectedCheck("t", ("databases.failover",), ("cluster",), True), "k3d", True, ""),
        (CollectedCheck("t", ("observability.loki_logs",), ("cluster",)), "k3d", False, "--with-observability"),
        (CollectedCheck("t", ("observability.loki_logs",), ("cluster",)), "kubeconfig", True, "if the cluster has"),
    ],
)
def test_plan_check_mirrors_the_run(check, target, runs, reason):
    planned = plan_check(check, target, {"cluster", "manifest_set"}, allow_destructive=False, with_observability=False)
    assert planned.runs is runs and reason in planned.reason


def test_plan_lists_the_capabilities_a_cluster_target_offers_and_how(capsys):
    assert main(["plan", "--target", "kind", "--manifests", str(MANIFEST_SET)]) == 0
    out = capsys.readouterr().out
    assert out.index("Capabilities (") < out.index("Checks (")
    mapping = "127.0.0.1:8080 -> NodePort 30080, mapped by kind-config.yaml"
    assert f"ingress [cluster]: the cluster's Traefik ({mapping})" in out
    main(["plan", "--target", "kubeconfig", "--manifests", str(MANIFEST_SET), "--format", "json"])
    plan = json.loads(capsys.readouterr().out)
    capabilities = {c["capability"]: c for c in plan["capabilities"]}
    assert {name: c["scope"] for name, c in capabilities.items()} == {
        "manifest_set": "static",
        "cluster": "cluster",
        "postgres": "cluster",
        "failover_lab": "cluster",
        "ingress": "cluster",
        "soak": "cluster",
        "soak_run": "cluster",
        "apps": "cluster",
        "observability": "cluster",
    }
    assert "kubectl port-forward to svc ingress-system/traefik:80" in capabilities["ingress"]["how"]
    assert "<cluster>-app" in capabilities["postgres"]["how"] and "48 h" in capabilities["soak"]["how"]
    assert "NetworkPolicies of its own" in capabilities["failover_lab"]["how"]


def test_the_failover_suite_runs_on_kind_and_k3d_and_needs_allow_destructive_on_kubeconfig(capsys):
    for target, extra, runs in (
        ("kind", [], True),
        ("k3d", [], True),
        ("kubeconfig", [], False),
        ("kubeconfig", ["--allow-destructive"], True),
    ):
        main(["plan", "--target", target, "--manifests", str(MANIFEST_SET), "--format", "json", *extra])
        checks = json.loads(capsys.readouterr().out)["checks"]
        planned = [c for c in checks if "/test_failover.py::" in c["test"]]
        assert len(planned) == 2 and all(c["runs"] is runs for c in planned), (target, extra, planned)


def test_the_cjk_split_and_soak_suites_now_run_on_cluster_targets(capsys):
    main(["plan", "--target", "k3d", "--manifests", str(MANIFEST_SET), "--format", "json"])
    checks = json.loads(capsys.readouterr().out)["checks"]
    for module in ("test_cjk_parser.py", "test_traffic_split.py", "test_soak.py"):
        planned = [c for c in checks if f"/{module}::" in c["test"]]
        assert planned and all(c["runs"] for c in planned), (module, planned)


@pytest.mark.parametrize(("tool", "cli_class"), [("kind", "KindCli"), ("k3d", "K3dCli")])
def test_plan_prints_the_create_load_and_delete_commands_the_lifecycle_runs(capsys, monkeypatch, tool, cli_class):
    from dbc_validate.cluster import lifecycle
    from dbc_validate.cluster.pins import cluster_config_path, load_pins

    ran: list[str] = []
    monkeypatch.setattr(lifecycle, "run_tool", lambda argv, **_: ran.append(shlex.join(argv)) or "")
    pin = load_pins().clusters[tool]
    cli = getattr(lifecycle, cli_class)("ci", tool)
    cli.create(cluster_config_path(pin), pin.node_image)
    cli.load_image("dirtbikechina/postgres:15-cjk")
    cli.delete()
    assert main(["plan", "--target", tool, "--manifests", str(MANIFEST_SET), "--cluster-name", "ci"]) == 0
    out = capsys.readouterr().out
    assert len(ran) == 3 and [command for command in ran if command not in out] == []
