"""Details of single rules that the one-fixture-per-rule tests do not pin down."""

from __future__ import annotations

from fractions import Fraction

import pytest
from analysis_builders import cnpg_cluster, deployment, manifest_set, namespace

from dbc_validate.analysis import analyze
from dbc_validate.analysis.images import parse_image
from dbc_validate.analysis.ingress import parse_split
from dbc_validate.analysis.secrets import cnpg_secret_refs

RBAC = "rbac.authorization.k8s.io/v1"


def _rules(result, category):
    return sorted(f.rule for f in result.of_category(category))


def _binding(kind, role_kind, role_name, subject, ns="app"):
    meta = {"name": "b"} if kind == "ClusterRoleBinding" else {"name": "b", "namespace": ns}
    return {
        "apiVersion": RBAC,
        "kind": kind,
        "metadata": meta,
        "subjects": [subject],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
    }


def _app(**spec):
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "app", "namespace": "app"}}
    return [sa, deployment("app", "app", serviceAccountName="app", automountServiceAccountToken=False, **spec)]


@pytest.mark.parametrize(
    ("binding", "flagged"),
    [
        (_binding("RoleBinding", "ClusterRole", "edit", {"kind": "ServiceAccount", "name": "app"}), True),
        (_binding("RoleBinding", "ClusterRole", "view", {"kind": "ServiceAccount", "name": "app"}), False),
        (
            _binding("ClusterRoleBinding", "ClusterRole", "admin", {"kind": "Group", "name": "system:serviceaccounts"}),
            True,
        ),
        (_binding("RoleBinding", "ClusterRole", "edit", {"kind": "Group", "name": "system:serviceaccounts:app"}), True),
        (_binding("RoleBinding", "ClusterRole", "edit", {"kind": "ServiceAccount", "name": "app"}, ns="other"), False),
        (_binding("RoleBinding", "ClusterRole", "edit", {"kind": "User", "name": "app"}), False),
    ],
)
def test_secret_reads_follow_bindings_groups_and_builtin_roles(binding, flagged):
    result = analyze(manifest_set(*_app(), binding), addons=())
    assert bool(result.of_rule("rbac.secrets-read")) is flagged


def test_secret_reads_through_a_wildcard_resource_are_caught_with_the_wildcard():
    role = {
        "apiVersion": RBAC,
        "kind": "Role",
        "metadata": {"name": "r", "namespace": "app"},
        "rules": [{"apiGroups": [""], "resources": ["*"], "verbs": ["list"]}],
    }
    binding = _binding("RoleBinding", "Role", "r", {"kind": "ServiceAccount", "name": "app"})
    result = analyze(manifest_set(*_app(), role, binding), addons=())
    assert _rules(result, "rbac") == ["rbac.secrets-read", "rbac.wildcard"]


def test_the_default_service_account_is_fine_when_its_token_is_not_mounted():
    default_sa = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "default", "namespace": "app"},
        "automountServiceAccountToken": False,
    }
    assert not analyze(manifest_set(default_sa, deployment("app", "a")), addons=()).of_rule("rbac.default-sa-automount")
    explicit = deployment("app", "a", automountServiceAccountToken=True)
    assert analyze(manifest_set(default_sa, explicit), addons=()).of_rule("rbac.default-sa-automount")


def test_optional_and_operator_generated_secrets_need_no_sealed_secret():
    env = [
        {"name": "A", "valueFrom": {"secretKeyRef": {"name": "maybe", "key": "k", "optional": True}}},
        {"name": "B", "valueFrom": {"secretKeyRef": {"name": "pg-app", "key": "uri"}}},
    ]
    workload = deployment("app", "a")
    workload["spec"]["template"]["spec"]["containers"][0]["env"] = env
    result = analyze(manifest_set(workload, cnpg_cluster("app", "pg")), addons=())
    assert not result.of_rule("secrets.unresolved-reference")


def test_cnpg_clusters_are_checked_for_the_secrets_they_name():
    spec = {
        "bootstrap": {"initdb": {"secret": {"name": "owner"}}},
        "superuserSecret": {"name": "root"},
        "certificates": {"serverTLSSecret": "tls"},
        "backup": {"barmanObjectStore": {"s3Credentials": {"accessKeyId": {"name": "s3", "key": "id"}}}},
    }
    assert sorted(name for name, _ in cnpg_secret_refs(spec)) == ["owner", "root", "s3", "tls"]
    result = analyze(manifest_set(cnpg_cluster("db", "pg", **spec)), addons=())
    assert len(result.of_rule("secrets.unresolved-reference")) == 4


def test_plain_secret_findings_name_keys_never_values():
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "a"},
        "data": {"password": "aHVudGVyMg=="},
    }
    (finding,) = analyze(manifest_set(secret), addons=()).of_rule("secrets.plain-secret")
    assert "password" in finding.message and "aHVudGVyMg" not in finding.message


@pytest.mark.parametrize(
    ("image", "repository", "tag", "digest", "unpinned"),
    [
        ("nginx", "nginx", None, None, True),
        ("nginx:latest", "nginx", "latest", None, True),
        ("registry:5000/team/app", "registry:5000/team/app", None, None, True),
        ("registry:5000/team/app:1.2", "registry:5000/team/app", "1.2", None, False),
        ("app@sha256:abc", "app", None, "sha256:abc", False),
        ("app:1.0@sha256:abc", "app", "1.0", "sha256:abc", False),
    ],
)
def test_image_references_split_into_repository_tag_and_digest(image, repository, tag, digest, unpinned):
    ref = parse_image(image)
    assert (ref.repository, ref.tag, ref.digest, ref.unpinned) == (repository, tag, digest, unpinned)


def test_split_shares_normalise_and_sort():
    assert parse_split("30/70") == (Fraction(7, 10), Fraction(3, 10))
    assert parse_split("0.5/0.25/0.25") == (Fraction(1, 2), Fraction(1, 4), Fraction(1, 4))


def test_nested_traefik_service_weights_are_compared_after_multiplying():
    def svc(name, ns):
        return [
            deployment(ns, name, None, [(8080, "TCP", "http")]),
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "namespace": ns},
                "spec": {"ports": [{"port": 80}]},
            },
        ]

    weighted = {
        "apiVersion": "traefik.io/v1alpha1",
        "kind": "TraefikService",
        "metadata": {"name": "split", "namespace": "web"},
        "spec": {
            "weighted": {
                "services": [{"name": "blue", "port": 80, "weight": 7}, {"name": "green", "port": 80, "weight": 3}]
            }
        },
    }
    route = {
        "apiVersion": "traefik.io/v1alpha1",
        "kind": "IngressRoute",
        "metadata": {"name": "www", "namespace": "web"},
        "spec": {"routes": [{"match": "Host(`x`)", "services": [{"name": "split", "kind": "TraefikService"}]}]},
    }
    manifests = manifest_set(namespace("web"), *svc("blue", "web"), *svc("green", "web"), weighted, route)
    assert not analyze(manifests, addons=()).of_category("ingress")
    assert analyze(manifests, expected_split="80/20", addons=()).of_rule("ingress.split-mismatch")


def test_legacy_cnpg_sync_settings_count_as_synchronous():
    legacy = manifest_set(cnpg_cluster("db", "pg", minSyncReplicas=1, maxSyncReplicas=2))
    assert not analyze(legacy, addons=()).of_rule("database.cnpg-no-sync-replication")
