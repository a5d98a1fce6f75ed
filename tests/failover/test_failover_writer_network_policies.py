"""The failover writer pod against the manifest set's NetworkPolicies, judged by the NetworkPolicy engine: the kind
overlay's default-deny in infra blocks it, the harness's own policies let it reach the CloudNativePG instances on
5432 and kube-dns on 53, and nothing else changes. Decided on the rendered set, not on a cluster."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from helpers import ROOT, read_yaml

from dbc_validate.analysis import cnpg_topology as cnpg
from dbc_validate.analysis.live.harness_policies import HarnessPath, harness_policies, isolated_for_ingress
from dbc_validate.analysis.netpol import ClusterModel, allowed, build_model, expected_matrix
from dbc_validate.manifests.model import K8sObject, ManifestSet, to_object

KIND_OVERLAY = ROOT / "manifests" / "overlays" / "kind"
CNPG_PODS = ("cnpg_primary", "cnpg_replica_2", "cnpg_replica_3")
RUN = "t1-abcd1234"
WRITER = f"{cnpg.WRITER_NAME}-{RUN}"
WRITER_ID = f"infra/{WRITER}"
POSTGRES = "infra/postgres-cluster"
KUBE_DNS = "kube-system/kube-dns"


def writer_pod(run_id: str = RUN) -> dict[str, Any]:
    """The Pod the failover backend applies, as it applies it."""
    return cnpg.writer_pod(
        name=f"{cnpg.WRITER_NAME}-{run_id}",
        namespace="infra",
        cluster="postgres-cluster",
        image="ghcr.io/cloudnative-pg/postgresql:15",
        secret="postgres-cluster-app",
        database="discourse",
        run_id=run_id,
        script="true",
    )


def writer_path(run_id: str = RUN) -> HarnessPath:
    name = f"{cnpg.WRITER_NAME}-{run_id}"
    return HarnessPath("infra", name, cnpg.writer_labels(run_id), {"cnpg.io/cluster": "postgres-cluster"}, 5432)


def instance_pods() -> list[dict[str, Any]]:
    pods = read_yaml(ROOT / "fixtures" / "cluster" / "pods.yaml")
    return [pods[name] for name in CNPG_PODS]


def infra_policies(objects: Iterable[K8sObject]) -> list[Mapping[str, Any]]:
    return [o.body for o in objects if o.kind == "NetworkPolicy" and o.namespace == "infra"]


def model_of(
    base: ManifestSet, *extra: Mapping[str, Any], keep: Callable[[K8sObject], bool] = lambda o: True
) -> ClusterModel:
    objects = tuple(o for o in base.objects if keep(o)) + tuple(to_object(e, "harness") for e in extra)
    return build_model(ManifestSet(base.source, base.method, objects))


def flows_without(model: ClusterModel, source: str) -> set[tuple[str, str, int, str, bool]]:
    return {
        (f.source, f.destination, f.port, f.protocol, f.allowed) for f in expected_matrix(model) if f.source != source
    }


def test_the_instances_of_the_kind_set_are_isolated_for_ingress_so_the_writer_needs_an_ingress_rule(kind_set):
    pods = instance_pods()
    assert isolated_for_ingress(infra_policies(kind_set.objects), pods)
    assert not isolated_for_ingress([], pods)
    assert not isolated_for_ingress(infra_policies(kind_set.objects), [])
    egress_only = [p for p in infra_policies(kind_set.objects) if p["metadata"]["name"] == "postgres-cluster-apiserver"]
    assert not isolated_for_ingress(egress_only, pods)  # an Egress-only policy isolates nothing for ingress


def test_default_deny_blocks_the_writer_and_the_harness_policies_let_it_reach_postgres_and_dns(kind_set):
    bare = model_of(kind_set, writer_pod())
    assert not allowed(bare, WRITER_ID, POSTGRES, 5432).allowed  # the problem: infra's default-deny
    policies = harness_policies(writer_path(), destinations_isolated=True)
    assert [p["metadata"]["name"] for p in policies] == [f"{WRITER}-egress", f"{WRITER}-ingress"]
    model = model_of(kind_set, writer_pod(), *policies)
    to_postgres = allowed(model, WRITER_ID, POSTGRES, 5432)
    assert to_postgres.allowed, to_postgres.explanation.text()
    assert len(to_postgres.explanation.pairs) == 3  # every instance: the -rw Service follows the primary
    assert allowed(model, WRITER_ID, KUBE_DNS, 53, "UDP").allowed
    assert allowed(model, WRITER_ID, KUBE_DNS, 53, "TCP").allowed
    # Only what the writer needs: not MySQL, not the instances' other ports, not another namespace.
    assert not allowed(model, WRITER_ID, "infra/mysql", 3306).allowed
    assert not allowed(model, WRITER_ID, POSTGRES, 8000).allowed
    assert not allowed(model, WRITER_ID, "prod/wordpress-blue", 80).allowed


def test_the_policies_let_through_their_own_writer_only_and_change_no_other_flow(kind_set):
    other = writer_pod("t2-ffff0000")
    before = model_of(kind_set, writer_pod(), other)
    after = model_of(kind_set, writer_pod(), other, *harness_policies(writer_path(), destinations_isolated=True))
    assert not allowed(after, f"infra/{other['metadata']['name']}", POSTGRES, 5432).allowed
    assert flows_without(before, WRITER_ID) == flows_without(after, WRITER_ID)


def test_dns_is_allowed_by_the_harness_even_where_the_namespace_has_no_allow_dns(kind_set):
    def no_allow_dns(o: K8sObject) -> bool:
        return not (o.kind == "NetworkPolicy" and o.name == "allow-dns")

    assert not allowed(model_of(kind_set, writer_pod(), keep=no_allow_dns), WRITER_ID, KUBE_DNS, 53, "UDP").allowed
    model = model_of(kind_set, writer_pod(), *harness_policies(writer_path(), True), keep=no_allow_dns)
    assert allowed(model, WRITER_ID, KUBE_DNS, 53, "UDP").allowed
    assert allowed(model, WRITER_ID, KUBE_DNS, 53, "TCP").allowed


def test_on_open_instances_no_ingress_policy_is_added_because_it_would_cut_other_clients_off(kind_set):
    def no_infra_policies(o: K8sObject) -> bool:
        return not (o.kind == "NetworkPolicy" and o.namespace == "infra")

    open_infra = [p for p in infra_policies(kind_set.objects) if no_infra_policies(to_object(p, "x"))]
    assert not isolated_for_ingress(open_infra, instance_pods())
    policies = harness_policies(writer_path(), destinations_isolated=False)
    assert [p["spec"]["policyTypes"] for p in policies] == [["Egress"]]
    before = model_of(kind_set, writer_pod(), keep=no_infra_policies)
    after = model_of(kind_set, writer_pod(), *policies, keep=no_infra_policies)
    assert allowed(after, WRITER_ID, POSTGRES, 5432).allowed
    assert flows_without(before, WRITER_ID) == flows_without(after, WRITER_ID)
    # The known-bad alternative: an ingress policy on open instances isolates them, and the operator is cut off.
    isolating = model_of(kind_set, writer_pod(), *harness_policies(writer_path(), True), keep=no_infra_policies)
    assert allowed(before, "cnpg-system/cnpg-controller-manager", POSTGRES, 8000).allowed
    assert not allowed(isolating, "cnpg-system/cnpg-controller-manager", POSTGRES, 8000).allowed


def test_the_harness_objects_are_valid_and_the_writer_meets_restricted_pod_security():
    from dbc_validate.analysis.netpol.policy import parse_policy
    from dbc_validate.analysis.pod_security import evaluate_pod
    from dbc_validate.analysis.schema import schema_findings

    policies = harness_policies(writer_path(), True)
    for policy in policies:
        assert policy["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "dbc-validate"
        parse_policy(to_object(policy, "harness"))  # raises PolicyError for what the API server would reject
    assert schema_findings([to_object(o, "harness") for o in (*policies, writer_pod())]) == []
    assert evaluate_pod(writer_pod()["spec"]) == []  # infra enforces Pod Security restricted
    assert schema_findings([to_object({**policies[0], "spec": {"podSelector": "writer"}}, "bad")])  # known-bad
