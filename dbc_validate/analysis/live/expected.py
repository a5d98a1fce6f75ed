"""What the live NetworkPolicy check compares against, from the NetworkPolicy engine of the static analysis:
the expected matrix (`expected_matrix(build_model(manifest_set))`) and, for each workload of that model, the
labels its pods carry, by which the probe finds the live pods (owner names differ on a cluster: kind and k3s
run kube-dns as Deployment `coredns`, whose pods are labelled `k8s-app=kube-dns`)."""

from __future__ import annotations

from collections.abc import Mapping

from dbc_validate.analysis.netpol import ClusterModel, Flow, Workload, expected_matrix


def expected_flows(model: ClusterModel) -> list[Flow]:
    """Every workload pair x every declared port, with the engine's verdict (DNS included)."""
    return expected_matrix(model)


def common_labels(workload: Workload) -> dict[str, str]:
    """The labels every pod of the workload carries (for a CloudNativePG Cluster, the labels all its
    instances share, not the instance name or role, which move with a failover)."""
    pods = list(workload.pods)
    if not pods:
        return {}
    shared = dict(pods[0].labels)
    for pod in pods[1:]:
        shared = {k: v for k, v in shared.items() if pod.labels.get(k) == v}
    return shared


def pod_selectors(model: ClusterModel) -> dict[str, Mapping[str, str]]:
    """Workload id ("namespace/name") -> the labels a live pod of it must carry."""
    return {w.id: common_labels(w) for w in model.workloads}
