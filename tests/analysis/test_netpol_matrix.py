"""The expected matrix: its shape, which pairs it holds, and agreement with the explained decisions."""

from __future__ import annotations

import pytest
from analysis_builders import GOOD, cnpg_cluster, deployment, manifest_set

from dbc_validate.analysis.netpol import Flow, UnknownEndpoint, allowed, build_model, expected_matrix
from dbc_validate.manifests.model import load_manifest_set


@pytest.fixture(scope="module")
def stack():
    return build_model(load_manifest_set(GOOD / "stack"))


def test_every_flow_of_the_matrix_agrees_with_the_explained_decision(stack):
    flows = expected_matrix(stack)
    assert flows and any(f.allowed for f in flows) and not all(f.allowed for f in flows)
    for flow in flows:
        assert allowed(stack, flow.source, flow.destination, flow.port, flow.protocol).allowed is flow.allowed, flow


def test_the_matrix_covers_every_pair_and_every_declared_port_once(stack):
    flows = expected_matrix(stack)
    keys = [(f.source, f.destination, f.port, f.protocol) for f in flows]
    assert len(keys) == len(set(keys)) and keys == sorted(keys)
    ids = {w.id for w in stack.workloads}
    for source in ids:
        assert (source, "kube-system/kube-dns", 53, "UDP") in keys or source == "kube-system/kube-dns"
        assert (source, "kube-system/kube-dns", 53, "TCP") in keys or source == "kube-system/kube-dns"


def test_the_stacks_app_paths_are_open_and_everything_else_is_closed(stack):
    allowed_flows = {(f.source, f.destination, f.port, f.protocol) for f in expected_matrix(stack) if f.allowed}
    for path in [
        ("ingress-system/traefik", "prod/wordpress", 8080, "TCP"),
        ("ingress-system/traefik", "stage/wordpress", 8080, "TCP"),
        ("prod/wordpress", "infra/mysql", 3306, "TCP"),
        ("stage/wordpress", "infra/mysql", 3306, "TCP"),
        ("infra/mysql-backup", "infra/mysql", 3306, "TCP"),
        ("cnpg-system/cnpg-controller-manager", "infra/postgres-cluster", 8000, "TCP"),
        ("infra/postgres-cluster", "infra/postgres-cluster", 5432, "TCP"),
        ("prod/wordpress", "kube-system/kube-dns", 53, "UDP"),
    ]:
        assert path in allowed_flows
    for path in [
        ("stage/wordpress", "prod/wordpress", 8080, "TCP"),
        ("prod/wordpress", "infra/postgres-cluster", 5432, "TCP"),
        ("infra/mysql", "prod/wordpress", 8080, "TCP"),
        ("kube-system/kube-dns", "infra/mysql", 3306, "TCP"),
    ]:
        assert path not in allowed_flows


def test_a_workload_is_its_own_destination_only_when_it_has_several_pods():
    scaled = deployment("a", "scaled", None, [80])
    scaled["spec"]["replicas"] = 3
    model = build_model(
        manifest_set(deployment("a", "single", None, [80]), scaled, cnpg_cluster("db", "pg")), addons=()
    )
    own = {(f.source, f.port) for f in expected_matrix(model) if f.source == f.destination}
    # kube-dns runs 2 replicas; a single-pod Deployment never talks to itself through a policy
    assert own == {("a/scaled", 80), ("db/pg", 5432), ("db/pg", 8000), ("db/pg", 9187), ("kube-system/kube-dns", 53)}


def test_flows_serialise_as_the_cli_json_shape():
    assert Flow("a/b", "c/d", 80, "TCP", True, "http").as_dict() == {
        "from": "a/b",
        "to": "c/d",
        "port": 80,
        "protocol": "TCP",
        "allowed": True,
    }


def test_unknown_endpoints_and_protocols_are_refused(stack):
    with pytest.raises(UnknownEndpoint, match=r"known: .*prod/wordpress"):
        allowed(stack, "prod/nothing", "prod/wordpress", 80, "TCP")
    with pytest.raises(ValueError, match="protocol"):
        allowed(stack, "prod/wordpress", "infra/mysql", 3306, "ICMP")
