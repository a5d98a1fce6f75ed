"""analyze(): the entry point's summary, its parameters and its per-set memory."""

from __future__ import annotations

from fractions import Fraction

import pytest
from analysis_builders import BAD, GOOD, cnpg_cluster, manifest_set, namespace

from dbc_validate.analysis import analyze
from dbc_validate.errors import InputError
from dbc_validate.manifests.model import load_manifest_set


def test_summary_counts_findings_by_severity_category_and_rule():
    result = analyze(load_manifest_set(BAD / "images.latest-tag.yaml"))
    summary = result.summary
    assert summary["passed"] is False and summary["errors"] == len(result.errors) == 1
    assert summary["by_rule"] == {"images.latest-tag": 1} and summary["by_category"] == {"images": 1}
    assert summary["workloads"] == 1 and summary["containers"] == 1 and summary["expected_split"] == "70/30"
    assert result.as_dict()["findings"][0]["rule"] == "images.latest-tag"


def test_findings_are_sorted_errors_first():
    result = analyze(load_manifest_set(GOOD / "stack"))
    order = [f.severity for f in result.findings]
    assert order == sorted(order, key=["error", "warning", "info"].index)


def test_results_are_remembered_per_set_and_parameters():
    manifests = load_manifest_set(BAD / "ingress.split-mismatch.yaml")
    first = analyze(manifests)
    assert analyze(manifests) is first
    even = analyze(manifests, expected_split="50/50")
    assert even is not first and not even.of_rule("ingress.split-mismatch") and first.of_rule("ingress.split-mismatch")
    assert analyze(manifests, expected_split=[Fraction(1, 2), Fraction(1, 2)]).summary["expected_split"] == "50/50"
    twin = load_manifest_set(BAD / "ingress.split-mismatch.yaml")  # equal objects, but another set
    assert analyze(twin) is not first


@pytest.mark.parametrize("split", ["70", "70/x", "0/100", ""])
def test_a_bad_expected_split_is_an_input_error(split):
    with pytest.raises(InputError, match="split"):
        analyze(manifest_set(), expected_split=split)


def test_an_unsupported_kube_version_is_an_input_error_naming_the_supported_ones():
    with pytest.raises(InputError, match=r"between 1\.25 and"):
        analyze(manifest_set(namespace("a")), kube_version="2.9")


def test_min_instances_and_addons_are_parameters():
    manifests = manifest_set(namespace("db"), cnpg_cluster("db", "pg", instances=2))
    assert analyze(manifests).of_rule("database.cnpg-instances")
    assert not analyze(manifests, min_instances=2).of_rule("database.cnpg-instances")
    # without the operator add-on nobody is there to be blocked
    assert analyze(manifests).of_rule("network-policy.cnpg-operator-blocked") == []
    deny = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "d", "namespace": "db"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }
    closed = manifest_set(namespace("db"), cnpg_cluster("db", "pg"), deny)
    assert analyze(closed).of_rule("network-policy.cnpg-operator-blocked")
    assert not analyze(closed, addons=()).of_rule("network-policy.cnpg-operator-blocked")
