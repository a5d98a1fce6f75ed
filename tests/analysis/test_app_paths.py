"""The app-path truth table against the engine: the real overlays agree, and broken policies are caught."""

from __future__ import annotations

import shutil

import pytest
import yaml
from helpers import ROOT

from dbc_validate.analysis.app_paths import AppPath, judge_app_paths, parse_app_paths
from dbc_validate.analysis.netpol import build_model
from dbc_validate.errors import InputError
from dbc_validate.manifests.model import ManifestSet, load_manifest_set, to_object
from dbc_validate.resources import APP_PATHS, data_path

TABLE = data_path(APP_PATHS)
PATHS = parse_app_paths(yaml.safe_load(TABLE.read_text()), str(TABLE))


def without(ms: ManifestSet, kind: str, name: str, namespace: str) -> ManifestSet:
    kept = tuple(o for o in ms.objects if not (o.kind == kind and o.name == name and o.namespace == namespace))
    assert len(kept) == len(ms.objects) - 1, f"{kind}/{namespace}/{name} not in the set"
    return ManifestSet(ms.source, ms.method, kept)


@pytest.mark.parametrize("overlay", ["kind", "k3d", "prod"])
def test_every_overlay_agrees_with_the_truth_table(overlay: str) -> None:
    verdicts = judge_app_paths(build_model(load_manifest_set(ROOT / "manifests" / "overlays" / overlay)), PATHS)
    assert [v.describe() for v in verdicts if not v.agrees] == []


def test_every_path_uses_a_port_its_destination_declares(kind_set: ManifestSet) -> None:
    model = build_model(kind_set)
    for path in PATHS:
        declared = {(p.port, p.protocol) for p in model.workload(path.destination).ports}
        assert (path.port, path.protocol) in declared, f"{path.destination} does not declare {path.describe()}"


def test_the_table_holds_both_allowed_and_denied_paths() -> None:
    assert any(p.allowed for p in PATHS) and any(not p.allowed for p in PATHS)


def test_an_allow_all_ingress_policy_opens_denied_paths(kind_set: ManifestSet) -> None:
    allow_all = to_object(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "allow-all", "namespace": "infra"},
            "spec": {"podSelector": {}, "ingress": [{}]},
        },
        "test",
    )
    opened = ManifestSet(kind_set.source, kind_set.method, (*kind_set.objects, allow_all))
    wrong = [v for v in judge_app_paths(build_model(opened), PATHS) if not v.agrees]
    assert wrong and all(not v.path.allowed and v.actual for v in wrong)
    assert "ingress-system/traefik -> infra/mysql 3306/TCP" in {v.path.describe() for v in wrong}


def test_dropping_the_dns_policy_breaks_dns_paths(kind_set: ManifestSet) -> None:
    broken = without(kind_set, "NetworkPolicy", "allow-dns", "infra")
    wrong = [v for v in judge_app_paths(build_model(broken), PATHS) if not v.agrees]
    assert {v.path.destination for v in wrong} == {"kube-system/kube-dns"}
    assert all(v.path.source.startswith("infra/") and v.actual is False for v in wrong)


def test_a_workload_missing_from_the_set_is_reported_not_crashed(kind_set: ManifestSet) -> None:
    ghost = AppPath("prod/ghost", "infra/mysql", 3306, "TCP", False, "no such workload")
    (verdict,) = judge_app_paths(build_model(kind_set), [ghost])
    assert verdict.actual is None and not verdict.agrees
    assert "not in the manifest set" in verdict.describe()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "no `paths:` list"),
        ({"paths": [{"from": "a/b", "to": "c/d", "port": 1, "protocol": "TCP", "allowed": True}]}, "exactly the keys"),
        (
            {"paths": [{"from": "a/b", "to": "c/d", "port": "80", "protocol": "TCP", "allowed": True, "why": "x"}]},
            "port must be an integer",
        ),
        (
            {"paths": [{"from": "a/b", "to": "c/d", "port": 80, "protocol": "TCP", "allowed": True, "why": "x"}] * 2},
            "repeats",
        ),
    ],
)
def test_a_malformed_table_is_refused_naming_the_entry(data: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_app_paths(data, "table.yaml")


def test_the_gate1_suite_fails_on_a_set_whose_policy_breaks_an_app_path(pytester: pytest.Pytester) -> None:
    manifests = pytester.path / "manifests"
    shutil.copytree(ROOT / "manifests", manifests)
    policies = manifests / "base" / "databases" / "network-policies.yaml"
    docs = [d for d in yaml.safe_load_all(policies.read_text()) if d]
    kept = [d for d in docs if "mysql" not in d["metadata"]["name"]]
    assert len(kept) < len(docs), "expected a MySQL policy to remove"
    policies.write_text(yaml.safe_dump_all(kept))
    shutil.copy(ROOT / "suites" / "gate1" / "test_network_app_paths.py", pytester.path)
    # One-token options and an explicit rootdir: a path given as a separate argument (the table, in the checkout)
    # would move the rootdir, and the report with it, into the checkout.
    result = pytester.runpytest(
        f"--manifests={manifests / 'overlays' / 'kind'}",
        f"--app-paths={TABLE}",
        f"--rootdir={pytester.path}",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(failed=1)
    assert (pytester.path / "reports" / "gate1.json").is_file()
    result.stdout.fnmatch_lines(
        ["*app path(s) differ from app_paths.yaml*", "*-> infra/mysql 3306/TCP: must be allowed*"]
    )
