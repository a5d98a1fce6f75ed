"""The cluster model: workloads expanded to pods, implicit namespace labels, kube-dns and the add-ons."""

from __future__ import annotations

import pytest
from analysis_builders import cnpg_cluster, deployment, manifest_set, namespace

from dbc_validate.analysis.addons import AddonPod
from dbc_validate.analysis.cluster_model import build_model
from dbc_validate.analysis.container_ports import ContainerPort

TEMPLATE = {"metadata": {"labels": {"app": "w"}}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}}


@pytest.mark.parametrize(
    ("kind", "api_version", "spec"),
    [
        ("Deployment", "apps/v1", {"replicas": 2, "template": TEMPLATE}),
        ("ReplicaSet", "apps/v1", {"template": TEMPLATE}),
        ("StatefulSet", "apps/v1", {"template": TEMPLATE}),
        ("DaemonSet", "apps/v1", {"template": TEMPLATE}),
        ("Job", "batch/v1", {"template": TEMPLATE}),
        ("CronJob", "batch/v1", {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": TEMPLATE}}}),
    ],
)
def test_every_workload_kind_expands_to_its_template_pods(kind, api_version, spec):
    obj = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "w", "namespace": "ns"}, "spec": spec}
    model = build_model(manifest_set(obj), addons=())
    workload = model.workload("ns/w")
    assert workload.kind == kind and workload.ref == f"{kind}/ns/w"
    assert workload.pods[0].labels["app"] == "w"
    assert [c.name for c in workload.containers] == ["c"]
    assert workload.replicas == (2 if kind == "Deployment" else 1)


def test_a_bare_pod_is_its_own_workload():
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "ns", "labels": {"a": "b"}},
        "spec": TEMPLATE["spec"],
    }
    assert build_model(manifest_set(obj), addons=()).workload("ns/p").pods[0].labels == {"a": "b"}


def test_job_pods_carry_the_job_name_labels():
    obj = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "init", "namespace": "ns"},
        "spec": {"template": TEMPLATE},
    }
    labels = build_model(manifest_set(obj), addons=()).workload("ns/init").pods[0].labels
    assert labels["batch.kubernetes.io/job-name"] == "init" and labels["job-name"] == "init"


def test_a_cnpg_cluster_becomes_one_workload_with_one_pod_per_instance():
    model = build_model(
        manifest_set(cnpg_cluster("infra", "pg", inheritedMetadata={"labels": {"team": "db"}})), addons=()
    )
    workload = model.workload("infra/pg")
    assert workload.kind == "Cluster" and workload.operator_managed and workload.service_account == "pg"
    assert [p.name for p in workload.pods] == ["pg-1", "pg-2", "pg-3"]
    assert [p.labels["cnpg.io/instanceRole"] for p in workload.pods] == ["primary", "replica", "replica"]
    for pod in workload.pods:
        assert pod.labels["cnpg.io/cluster"] == "pg" and pod.labels["cnpg.io/podRole"] == "instance"
        assert pod.labels["role"] == pod.labels["cnpg.io/instanceRole"] and pod.labels["team"] == "db"
    assert {(p.port, p.name) for p in workload.ports} == {(5432, "postgresql"), (8000, "status"), (9187, "metrics")}


def test_objects_that_run_no_pod_are_not_workloads():
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "ns"}, "spec": {}}
    foreign = {"apiVersion": "example.com/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "ns"}}
    model = build_model(manifest_set(service, foreign), addons=())
    assert model.ids == ["kube-system/kube-dns"]


def test_every_namespace_has_its_immutable_name_label_whatever_the_manifest_says():
    model = build_model(
        manifest_set(
            namespace("prod", **{"kubernetes.io/metadata.name": "other", "env": "p"}), deployment("stage", "w")
        ),
        addons=(),
    )
    assert model.namespaces["prod"].labels == {"kubernetes.io/metadata.name": "prod", "env": "p"}
    assert model.namespaces["stage"].labels == {"kubernetes.io/metadata.name": "stage"}
    assert not model.namespaces["stage"].declared


def test_kube_dns_is_always_present_with_dns_on_udp_and_tcp():
    dns = build_model(manifest_set(), addons=()).workload("kube-system/kube-dns")
    assert dns.pods[0].labels == {"k8s-app": "kube-dns"}
    assert {(p.port, p.protocol) for p in dns.ports} == {(53, "UDP"), (53, "TCP")}


def test_the_default_addons_join_the_model():
    model = build_model(manifest_set())
    roles = {w.role: w.id for w in model.workloads if w.source == "addon"}
    assert roles == {
        "ingress-controller": "ingress-system/traefik",
        "cnpg-operator": "cnpg-system/cnpg-controller-manager",
        "sealed-secrets-controller": "kube-system/sealed-secrets-controller",
    }


def test_a_workload_of_the_set_replaces_an_addon_of_the_same_identity_and_keeps_its_role():
    addon = AddonPod("cnpg-operator", "cnpg-system", "op", "Deployment", {"x": "y"}, "sa", (ContainerPort(8080),))
    model = build_model(manifest_set(deployment("cnpg-system", "op", {"mine": "yes"})), addons=(addon,))
    workload = model.workload("cnpg-system/op")
    assert workload.source == "manifest" and workload.role == "cnpg-operator"
    assert workload.pods[0].labels == {"mine": "yes"}
    assert [w.id for w in model.workloads].count("cnpg-system/op") == 1


def test_an_unknown_workload_is_a_key_error_listing_the_known_ones():
    model = build_model(manifest_set(deployment("a", "w")), addons=())
    with pytest.raises(KeyError, match="known: a/w, kube-system/kube-dns"):
        model.workload("a/missing")


def test_named_ports_are_resolved_per_protocol_and_sidecars_serve_ports():
    spec = {
        "initContainers": [
            {
                "name": "proxy",
                "image": "p:1",
                "restartPolicy": "Always",
                "ports": [{"containerPort": 15001, "name": "proxy"}],
            },
            {"name": "setup", "image": "s:1", "ports": [{"containerPort": 9999, "name": "setup"}]},
        ]
    }
    workload = build_model(manifest_set(deployment("a", "w", None, [(53, "UDP", "dns")], **spec)), addons=()).workload(
        "a/w"
    )
    assert workload.named_port("dns", "UDP") == 53 and workload.named_port("dns", "TCP") is None
    assert workload.named_port("proxy", "TCP") == 15001 and workload.named_port("setup", "TCP") is None
