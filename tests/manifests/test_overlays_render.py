"""Every overlay renders through kubectl kustomize into parseable objects; the monitoring component composes."""

from __future__ import annotations

import pytest
from overlay_checks import APP_NAMESPACES, OVERLAYS

from dbc_validate.analysis.live.apply_order import apply_plan
from dbc_validate.manifests.model import ManifestSet

EXPECTED = {
    ("Namespace", None, "prod"),
    ("Namespace", None, "stage"),
    ("Namespace", None, "infra"),
    ("Namespace", None, "ingress-system"),
    ("Cluster", "infra", "postgres-cluster"),
    ("ConfigMap", "infra", "discourse-bootstrap-sql"),
    ("StatefulSet", "infra", "mysql"),
    ("Service", "infra", "mysql"),
    ("ServiceAccount", "infra", "mysql"),
    ("Deployment", "prod", "wordpress-blue"),
    ("Deployment", "stage", "wordpress-blue"),
    ("Service", "prod", "wordpress"),
    ("Service", "stage", "wordpress"),
    ("IngressRoute", "ingress-system", "www"),
    ("Middleware", "ingress-system", "variant-prod"),
    ("Middleware", "ingress-system", "variant-stage"),
}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_with_kustomize_into_the_whole_stack(overlay: str, overlay_sets: dict[str, ManifestSet]):
    manifests = overlay_sets[overlay]
    assert manifests.method == "kustomize"
    present = {(o.kind, o.namespace, o.name) for o in manifests}
    assert present >= EXPECTED, f"missing from {overlay}: {sorted(EXPECTED - present, key=str)}"
    assert len(present) == len(manifests), "two objects share kind, namespace and name"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_objects_live_only_in_declared_namespaces(overlay: str, overlay_sets: dict[str, ManifestSet]):
    manifests = overlay_sets[overlay]
    declared = {o.name for o in manifests.of_kind("Namespace")}
    used = {o.namespace for o in manifests if o.namespace}
    assert used <= declared, f"objects in undeclared namespaces: {used - declared}"
    assert set(APP_NAMESPACES) <= declared


def test_every_overlay_carries_the_monitors_and_applies_them_only_where_their_crds_are_served(kind_set: ManifestSet):
    monitors = {(o.namespace, o.name) for o in kind_set.of_kind("PodMonitor")}
    assert monitors == {("infra", "postgres-cluster"), ("ingress-system", "traefik")}
    assert kind_set.get("NetworkPolicy", "postgres-cluster-metrics", "infra") is not None
    # Without the Prometheus Operator (no monitoring.coreos.com served), deploying skips them instead of failing.
    plan = apply_plan(kind_set.objects, served_groups=())
    skipped = {o.ref for o, _ in plan.skipped}
    assert {o.ref for o in kind_set.objects if o.group == "monitoring.coreos.com"} <= skipped
