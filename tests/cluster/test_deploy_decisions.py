"""Deploy decisions without a cluster: apply order, safety switches, add-on manifests, pins and configs."""

from __future__ import annotations

import pytest
import yaml
from cluster_fixtures import MANIFEST_SET, obj

from dbc_validate.analysis.live.addon_manifests import (
    service_proxy_path,
    with_kubelet_insecure_tls,
    without_upstream_binding,
)
from dbc_validate.analysis.live.apply_order import apply_plan
from dbc_validate.analysis.live.cluster_ingress import HostAddress, mapped_host_port
from dbc_validate.analysis.live.safety import current_context, destructive_refusal, lifecycle, prod_context_refusal
from dbc_validate.cluster.pins import images_to_build, load_pins, parse_pins, referenced_images
from dbc_validate.errors import InputError
from dbc_validate.manifests.model import load_manifest_set
from dbc_validate.resources import data_path, read_text


@pytest.fixture(scope="module")
def ms():
    return load_manifest_set(MANIFEST_SET)


@pytest.fixture(scope="module")
def pins():
    return load_pins()


def _position(plan, ref):
    return [o.ref for o in plan.ordered].index(ref)


def test_policies_and_secrets_come_before_the_pods_they_protect(ms):
    plan = apply_plan(list(ms.objects), {"traefik.io", "postgresql.cnpg.io", "bitnami.com"})
    assert [p.name for p in plan.phases] == ["foundation", "databases", "applications"]
    assert _position(plan, "Namespace/prod") == 0
    assert _position(plan, "NetworkPolicy/prod/default-deny") < _position(plan, "Deployment/prod/wordpress")
    assert _position(plan, "SealedSecret/infra/mysql-credentials") < _position(plan, "StatefulSet/infra/mysql")
    assert _position(plan, "Cluster/infra/postgres-cluster") < _position(plan, "Job/infra/discourse-init")
    assert _position(plan, "Middleware/prod/prod-marker") < _position(plan, "IngressRoute/prod/www")


def test_objects_of_unserved_groups_are_skipped_with_the_reason(ms):
    plan = apply_plan(list(ms.objects), {"traefik.io", "postgresql.cnpg.io", "bitnami.com"})
    assert [(o.ref, "monitoring.coreos.com" in why) for o, why in plan.skipped] == [
        ("ServiceMonitor/prod/traefik", True)
    ]
    with_monitoring = apply_plan(
        list(ms.objects), {"traefik.io", "postgresql.cnpg.io", "bitnami.com", "monitoring.coreos.com"}
    )
    assert with_monitoring.phases[-1].name == "monitoring" and not with_monitoring.skipped


def test_a_context_or_cluster_named_prod_is_refused_unless_allowed():
    prod = current_context(obj("api_answers", "kubeconfig_prod"))
    refusal = prod_context_refusal(prod, allow_prod=False)
    assert isinstance(refusal, InputError) and "context 'dirtbike-prod'" in refusal.problem
    assert "--allow-prod-context" in refusal.fix
    assert prod_context_refusal(prod, allow_prod=True) is None
    sneaky = current_context(obj("api_answers", "kubeconfig_dev_on_prod_cluster"))
    assert "cluster 'eu-prod-1'" in prod_context_refusal(sneaky, False).problem
    kind = current_context(obj("api_answers", "kubeconfig_kind"))
    assert kind.namespace == "prod" and prod_context_refusal(kind, False) is None


def test_kubeconfig_without_or_with_unknown_context_is_bad_input():
    with pytest.raises(InputError, match="no current-context"):
        current_context({"contexts": []})
    with pytest.raises(InputError, match="'ghost' does not exist"):
        current_context(obj("api_answers", "kubeconfig_kind"), override="ghost")


def test_destructive_tests_need_the_switch_on_an_existing_cluster_only():
    assert "--allow-destructive" in destructive_refusal("kubeconfig", False)
    assert destructive_refusal("kubeconfig", True) is None
    assert destructive_refusal("kind", False) is None and destructive_refusal("k3d", False) is None


def test_lifecycle_reuses_by_name_and_deletes_unless_kept():
    fresh = lifecycle("dbc-gate1", exists=False, keep_cluster=False)
    assert fresh.create and fresh.delete_at_end and "also after Ctrl-C" in fresh.say
    kept = lifecycle("dbc-gate1", exists=True, keep_cluster=True)
    assert not kept.create and not kept.delete_at_end and "reusing" in kept.say


def test_upstream_traefik_binding_to_default_is_dropped_and_its_role_kept():
    docs = [
        {"kind": "ClusterRole", "metadata": {"name": "traefik-ingress-controller"}},
        {
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "traefik-ingress-controller"},
            "subjects": [{"namespace": "default"}],
        },
    ]
    assert [d["kind"] for d in without_upstream_binding(docs)] == ["ClusterRole"]


def test_metrics_server_gets_kubelet_insecure_tls_once():
    docs = [
        {
            "kind": "Deployment",
            "metadata": {"name": "metrics-server"},
            "spec": {
                "template": {"spec": {"containers": [{"name": "metrics-server", "args": ["--secure-port=10250"]}]}}
            },
        }
    ]
    patched = with_kubelet_insecure_tls(with_kubelet_insecure_tls(docs))
    assert patched[0]["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "--secure-port=10250",
        "--kubelet-insecure-tls",
    ]
    assert docs[0]["spec"]["template"]["spec"]["containers"][0]["args"] == ["--secure-port=10250"]  # input untouched


def test_certificate_is_fetched_through_the_service_proxy_like_kubeseal():
    path = service_proxy_path(obj("api_answers", "sealed_secrets_service"), "/v1/cert.pem")
    assert path == "/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:http/proxy/v1/cert.pem"
    with pytest.raises(ValueError, match="exposes no port"):
        service_proxy_path({"metadata": {"name": "x", "namespace": "y"}, "spec": {}}, "/")


def test_pinned_add_ons_per_target(pins):
    kind = [a.name for a in pins.addons_for("kind", False)]
    assert kind == ["sealed-secrets", "cloudnative-pg", "traefik", "metrics-server"]
    assert "metrics-server" not in [a.name for a in pins.addons_for("k3d", False)]  # k3s bundles it
    assert [a.name for a in pins.addons_for("kind", True)][-3:] == ["kube-prometheus-stack", "loki", "promtail"]
    assert pins.addons_for("kubeconfig", True) == []
    assert pins.served_groups("k3d", False) == {"bitnami.com", "postgresql.cnpg.io", "traefik.io"}


def test_only_images_the_set_references_are_built(pins, ms):
    referenced = referenced_images(ms.objects)
    assert {"dirtbikechina/postgres:15-cjk", "mysql:8.4.6", "wordpress:6.8.3-php8.3-apache"} <= referenced
    assert [r.image for r in images_to_build(pins.images, referenced)] == ["dirtbikechina/postgres:15-cjk"]
    assert images_to_build(pins.images, {"mysql:8.4.6"}) == []


def test_pins_refuse_a_kind_image_without_digest_and_incomplete_add_ons():
    data = yaml.safe_load(read_text("addon-versions.yaml"))
    data["clusters"]["kind"]["node_image"] = "kindest/node:v1.36.4"
    with pytest.raises(InputError, match="not pinned by digest"):
        parse_pins(data)
    data = yaml.safe_load(read_text("addon-versions.yaml"))
    data["addons"][0].pop("version")
    with pytest.raises(InputError, match="add-on #1 lacks version"):
        parse_pins(data)


def test_cluster_configs_agree_with_the_pins(pins):
    kind = yaml.safe_load(data_path(pins.clusters["kind"].config).read_text())
    assert kind["apiVersion"] == "kind.x-k8s.io/v1alpha4" and kind["kind"] == "Cluster"
    web_node_port = pins.traefik.port("web").node_port
    assert mapped_host_port("kind", kind, web_node_port, "kind-config.yaml") == HostAddress("127.0.0.1", 8080)
    assert "image" not in kind["nodes"][0]  # the digest-pinned image is passed with --image, from the pins only
    assert not kind.get("networking", {}).get("disableDefaultCNI")  # kindnetd enforces NetworkPolicy
    k3d = yaml.safe_load(data_path(pins.clusters["k3d"].config).read_text())
    assert k3d["apiVersion"] == "k3d.io/v1alpha5" and k3d["kind"] == "Simple" and "image" not in k3d
    assert mapped_host_port("k3d", k3d, web_node_port, "k3d-config.yaml") == HostAddress("127.0.0.1", 8080)
    assert {"arg": "--disable=traefik", "nodeFilters": ["server:*"]} in k3d["options"]["k3s"]["extraArgs"]
