"""`dbc-validate analyze`: output formats and exit codes on known-good and known-bad sets."""

from __future__ import annotations

import json

import pytest
from helpers import ROOT

from dbc_validate.cli import main

FIXTURES = ROOT / "fixtures" / "analysis"
GOOD_STACK = FIXTURES / "good" / "stack"


def test_a_good_set_exits_zero_with_its_warnings_and_a_summary(capsys):
    assert main(["analyze", str(GOOD_STACK)]) == 0
    out = capsys.readouterr().out
    assert "WARNING ingress.cross-namespace IngressRoute/prod/www" in out
    assert out.strip().endswith("no error")


def test_an_error_finding_exits_one_and_prints_object_container_rule_and_fix(capsys):
    assert main(["analyze", str(FIXTURES / "bad" / "pod-security.privileged.yaml")]) == 1
    out = capsys.readouterr().out
    assert "ERROR pod-security.privileged Deployment/demo/web [web]: securityContext.privileged is true" in out
    assert "fix: set securityContext.privileged: false" in out


def test_json_output_has_findings_and_summary(capsys):
    assert main(["analyze", str(FIXTURES / "bad" / "rbac.wildcard.yaml"), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"findings", "summary"}
    assert set(data["findings"][0]) == {"rule", "category", "severity", "object", "container", "message", "fix"}
    assert data["summary"]["by_rule"] == {"rbac.wildcard": 1}


def test_warnings_alone_exit_zero(capsys):
    assert main(["analyze", str(FIXTURES / "bad" / "network-policy.no-default-deny.yaml")]) == 0
    assert "WARNING network-policy.no-default-deny" in capsys.readouterr().out


def test_split_option_changes_the_expected_weights(capsys):
    bad = str(FIXTURES / "bad" / "ingress.split-mismatch.yaml")
    assert main(["analyze", bad]) == 1
    assert main(["analyze", bad, "--split", "50/50"]) == 0


def test_several_paths_are_judged_as_one_set(capsys, tmp_path):
    route = tmp_path / "route.yaml"
    route.write_text((FIXTURES / "bad" / "ingress.missing-service.yaml").read_text())
    service = tmp_path / "service.yaml"
    service.write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: demo}\nspec: {ports: [{port: 80}]}\n"
    )
    assert main(["analyze", str(route)]) == 1
    assert main(["analyze", str(route), str(service)]) == 0


def test_a_kustomization_folder_is_rendered_first(capsys, tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - app.yaml\n")
    (tmp_path / "app.yaml").write_text((FIXTURES / "bad" / "images.latest-tag.yaml").read_text())
    assert main(["analyze", str(tmp_path), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["summary"]["by_rule"] == {"images.latest-tag": 1}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/path"], "does not exist"),
        ([str(GOOD_STACK), "--split", "seventy"], "split 'seventy'"),
        ([str(GOOD_STACK), "--kube-version", "0.9"], "no schemas for Kubernetes '0.9'"),
    ],
)
def test_unusable_input_exits_two_with_one_line(capsys, args, message):
    assert main(["analyze", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
