"""Both observability suites (live and stack) through the kubeconfig target against the Kubernetes API test double:
the stack found by its charts' Service labels passes both; a Prometheus found or named that does not answer ERRORs
every check that needs it; no stack at all is NOT_RUN with a reason fitting kubeconfig; Grafana's password, read
from its chart's Secret, never shows."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from double.fixture import double_for
from helpers import ROOT

pytestmark = [pytest.mark.lab, pytest.mark.slow]

SUITES = ["suites/gate1/test_observability_live.py", "suites/gate1/test_observability_stack.py"]
MANIFESTS = "manifests/overlays/k3d"  # the set the scenarios deploy (scenario `manifests: k3d`)
GRAFANA_PASSWORD = "double-grafana-admin-password"  # in healthy.yaml's Secret, base64

PROMETHEUS_TESTS = (
    "test_prometheus_scrapes_every_target",
    "test_no_critical_alert_is_firing",
    "test_every_expected_target_is_scraped_and_up",
    "test_no_critical_alert_fires_once_the_rules_ran_twice",
    "test_every_dashboard_query_returns_series",
    "test_metrics_of_every_monitored_component_are_visible",
)
OTHERS = ("test_grafana_serves_its_dashboards", "test_loki_returns_application_logs")


def run(scenario: str | None, tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    with double_for(scenario, tmp_path / "double") as lab:
        report = tmp_path / "report" / "gate1.html"
        argv = [sys.executable, "-m", "pytest", *SUITES, "-p", "no:cacheprovider", "-p", "double.label"]
        argv += ["--target", "kubeconfig", "--kubeconfig", str(lab.kubeconfig), "--manifests", MANIFESTS]
        argv += ["--gate1-report", str(report), "-rA", "-q", *extra]
        env = lab.env(dict(os.environ))
        env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    data = json.loads(report.with_suffix(".json").read_text(encoding="utf-8"))
    return done, data


def outcomes(data: dict) -> dict[str, tuple[str, str]]:
    """Test function name -> (outcome, message)."""
    return {
        nodeid.split("::")[-1]: (t["outcome"], t["message"] or "")
        for nodeid, t in data["measurements"]["tests"].items()
    }


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_stack_found_by_its_labels_passes_both_suites_and_its_password_never_shows(tmp_path: Path):
    done, data = run("observability_stack", tmp_path)
    ran = outcomes(data)
    assert {name: ran[name][0] for name in (*PROMETHEUS_TESTS, *OTHERS)} == dict.fromkeys(
        (*PROMETHEUS_TESTS, *OTHERS), "passed"
    ), done.stdout[-3000:]
    assert done.returncode == 0
    assert "kubeconfig: found prometheus at monitoring/kube-prometheus-stack-prometheus:9090" in done.stdout
    written = done.stdout + done.stderr + json.dumps(data)
    assert GRAFANA_PASSWORD not in written
    report = (tmp_path / "report" / "gate1.html").read_text(encoding="utf-8")
    assert GRAFANA_PASSWORD not in report


def test_a_prometheus_found_that_does_not_answer_errors_every_check_that_needs_it(tmp_path: Path):
    done, data = run("prometheus_not_answering", tmp_path)
    ran = outcomes(data)
    assert {name: ran[name][0] for name in PROMETHEUS_TESTS} == dict.fromkeys(PROMETHEUS_TESTS, "error"), done.stdout[
        -3000:
    ]
    live_message = ran["test_prometheus_scrapes_every_target"][1]
    assert "Service monitoring/kube-prometheus-stack-prometheus:9090 does not answer /-/ready" in live_message
    stack_message = ran["test_every_expected_target_is_scraped_and_up"][1]
    assert "HTTP 503" in stack_message, stack_message
    assert ran["test_loki_returns_application_logs"][0] == "passed"  # Loki is not Prometheus: it still answers
    assert done.returncode == 1


def test_a_prometheus_url_that_does_not_answer_errors_and_no_stack_at_all_is_not_run(tmp_path: Path):
    url = f"http://127.0.0.1:{closed_port()}"
    done, data = run(None, tmp_path / "url", "--prometheus-url", url)
    ran = outcomes(data)
    assert {name: ran[name][0] for name in PROMETHEUS_TESTS} == dict.fromkeys(PROMETHEUS_TESTS, "error"), done.stdout[
        -3000:
    ]
    assert f"prometheus at {url}" in ran["test_prometheus_scrapes_every_target"][1]
    assert url in ran["test_every_expected_target_is_scraped_and_up"][1]

    done, data = run(None, tmp_path / "none")
    ran = outcomes(data)
    assert {name: ran[name][0] for name in (*PROMETHEUS_TESTS, *OTHERS)} == dict.fromkeys(
        (*PROMETHEUS_TESTS, *OTHERS), "skipped"
    ), done.stdout[-3000:]
    for name, (_, reason) in ran.items():
        if name in (*PROMETHEUS_TESTS, *OTHERS):
            assert "--with-observability" not in reason, reason
            assert "-url URL" in reason and "in any namespace" in reason, reason
    criteria = {c["id"]: c["status"] for c in data["criteria"]}
    assert criteria["observability.prometheus_targets"] == "NOT_RUN"
